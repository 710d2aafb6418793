// Chart mode on the cluster tier: the Vault (or OpenBao) chart's pods, init and unseal through the
// port-forward tunnel, ESO's controller pod, the demo pull, drift and the reseal drill, destroy.
// Each export is one check: (runner, t: ClusterTest, n) => Promise.
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { STACK, cfgArgs, readState, waitFor } from "../../../scripts/local/lib.mjs";
import { secretGuardDrill } from "./admission.mjs";
import { RESEAL_STEPS, appliedSteps, plannedSteps, sameSteps } from "./previews.mjs";
import { assert, eq, secretsAbsent } from "../lib/assertions.mjs";
import { ClusterTest, isReady, isRunning, secs } from "../lib/clusterTest.mjs";
import { APP_NS, DECLARED, ESO_NS, KV, READER_SA, REFRESH_SECONDS, REGISTRY_SECRET, ROLE, VAULT_NS } from "../lib/stack.mjs";

const REGISTRY = REGISTRY_SECRET;
const dependsOnUp = (t) => assert(t.upDone, "depends on the phase's pulumi up");

export const policyPreview = (r, t, n) =>
    r.check(n, "pulumi preview --policy-pack policies in chart mode: no violation", async () => {
        const res = await t.POk(["preview", ...cfgArgs(t.dir), "--policy-pack", "policies", "--policy-pack-config", path.join("policies", "config", `${STACK}.json`)]);
        const out = res.stdout + res.stderr;
        assert(/Policies:|Policy Packs run|vault-eso-platform/i.test(out), "no policy pack in the preview output");
        assert(!/mandatory|advisory|violation/i.test(out.replace(/Policy Violations:\s*$/m, "")), `policy violations reported:\n${out.slice(-2000)}`);
        return `preview with the pack ${secs(res.ms)}`;
    });

export const upSealedThenReady = (r, t, n) => {
    const pod0 = t.podName(0);
    return r.check(n, `pulumi up in chart mode: ${pod0} NotReady while sealed, Ready once the provider unsealed it through the API server's port-forward; no host-process Vault, OpenBao or ESO`, async () => {
        const { result: up, samples } = await t.watchPod(VAULT_NS, pod0, () => t.POk(["up", "--yes", "--skip-preview", ...cfgArgs(t.dir)]));
        t.upDone = true;
        t.timings.up = up.ms;
        const sealedRunning = samples.filter((s) => s.running && !s.ready);
        assert(sealedRunning.length > 0, `${pod0} was never seen Running and NotReady during pulumi up (${samples.length} samples)`);
        const h = await t.health();
        assert(h.initialized === true && h.sealed === false, `after up: initialized=${h.initialized} sealed=${h.sealed}`);
        await waitFor(`${pod0} Ready`, async () => isReady(await t.pod(VAULT_NS, pod0)), { timeoutMs: 30000 });
        const pf = t.portForwards(pod0);
        assert(pf.length > 0, `no port-forward to ${pod0} in the apiserver audit log`);
        const users = [...new Set(pf.map((e) => e.user.username))];
        eq(ClusterTest.hostProcessesNamed(["vault", "bao", "external-secrets"]), [], "Vault/OpenBao/ESO processes outside containers");
        const listeners = t.ourListeners();
        const stray = listeners.filter((l) => !/^(127\.0\.0\.1|\[::1\]|10\.214\.0\.1):\d+$/.test(l.addr));
        eq(stray.map((l) => `${l.name} ${l.addr}`), [], "host listeners of the cluster's processes outside loopback and the node bridge");
        return [
            `up ${secs(up.ms)}; ${pod0} Running+NotReady in ${sealedRunning.length} of ${samples.length} samples, then Ready; ${h.version} unsealed`,
            `${pf.length} port-forward requests to ${pod0} by ${users.join(", ")} (apiserver audit log)`,
            `${listeners.length} listening sockets of ${new Set(listeners.map((l) => l.name)).size} host processes, all on loopback or ${readState(t.dir).apiHost}`,
        ];
    });
};

export const esoSyncs = (r, t, n) =>
    r.check(n, "ESO's own pods sync every ExternalSecret; values equal Vault", async () => {
        dependsOnUp(t);
        const pods = (await t.kube().get(`/api/v1/namespaces/${ESO_NS}/pods`)).json.items;
        assert(pods.length > 0 && pods.every((p) => isRunning(p) && isReady(p)), `ESO pods: ${pods.map((p) => `${p.metadata.name}:${p.status.phase}`).join(", ")}`);
        // The controller runs with the program's defaults esoConcurrent 8 and esoVaultTokenCache true.
        const controller = pods.find((p) => p.spec.containers[0].args?.some((a) => a.startsWith("--concurrent")));
        const args = controller?.spec.containers[0].args ?? [];
        const want = ["--concurrent=8", "--enable-vault-token-cache=true"];
        assert(want.every((a) => args.includes(a)), `ESO controller pod ${controller?.metadata.name ?? "(none with --concurrent)"}: args ${JSON.stringify(args)} lack ${want.filter((a) => !args.includes(a)).join(", ")}`);
        const t0 = Date.now();
        let last;
        await waitFor("every ExternalSecret synced", async () => t.assertSynced().then(() => true, (e) => ((last = e), false)), { timeoutMs: 120000, intervalMs: 1000 }).catch(() => {
            throw last ?? new Error("not synced");
        });
        t.timings.synced = t.timings.up + (Date.now() - t0);
        return `${pods.map((p) => `${p.metadata.name} (${p.spec.containers[0].image})`).join(", ")}; controller ${want.join(" ")}; ${DECLARED.length + 1} ExternalSecrets Ready`;
    });

export const leastPrivilege = (r, t, n) =>
    r.check(n, "least privilege: a token of ESO's role (Vault's TokenReview through the in-cluster API) reads the declared paths, 403 elsewhere", async () => {
        dependsOnUp(t);
        const jwt = await t.kube().token(APP_NS, READER_SA, { audiences: ["vault"], expirationSeconds: 600 });
        const login = await t.vault("POST", "auth/kubernetes/login", { role: ROLE, jwt });
        assert(login.status === 200, `login as ${APP_NS}/${READER_SA}: HTTP ${login.status} ${JSON.stringify(login.json?.errors ?? "")}`);
        const token = login.json.auth.client_token;
        for (const p of [...DECLARED.map((d) => d.path), REGISTRY.path]) {
            const res = await t.vault("GET", `${KV}/data/${p}`, undefined, token);
            assert(res.status === 200, `reader GET ${KV}/data/${p}: HTTP ${res.status}`);
        }
        const denied = [["GET", `${KV}/data/undeclared/extra`], ["POST", `${KV}/data/path_to_secret`, { data: { password: "x" } }], ["LIST", `${KV}/metadata`], ["GET", "sys/mounts"]];
        for (const [m, p, b] of denied) {
            const res = await t.vault(m, p, b, token);
            assert(res.status === 403, `reader ${m} ${p}: expected 403, got ${res.status}`);
        }
        const other = await t.kube().token(APP_NS, "default", { audiences: ["vault"], expirationSeconds: 600 });
        const r2 = await t.vault("POST", "auth/kubernetes/login", { role: ROLE, jwt: other });
        assert(r2.status >= 400, `login as ${APP_NS}/default: HTTP ${r2.status}`);
        return `reader: 200 on ${DECLARED.length + 1} declared paths; 403 on ${denied.map((d) => `${d[0]} ${d[1]}`).join(", ")}; other SA -> ${r2.status}`;
    });

export const demoPull = (r, t, n) =>
    r.check(n, "the demo pod pulls its image from the local registry (basic auth) with only the pull secret ESO rendered from Vault; a wrong password -> ErrImagePull; the right one after the next refresh -> Running", async () => {
        dependsOnUp(t);
        const st = readState(t.dir);
        const registry = `${st.apiHost}:${st.registryPort}`;
        const anon = await fetch(`http://${registry}/v2/demo/go-sample/manifests/1`);
        eq(anon.status, 401, "anonymous manifest request to the registry");
        let p = await waitFor("demo pod Running", async () => {
            const d = await t.demoPod();
            return d && isRunning(d) ? d : undefined;
        }, { timeoutMs: 120000 });
        assert(p.spec.containers[0].image.startsWith(registry), `demo image ${p.spec.containers[0].image} is not from ${registry}`);
        eq(p.spec.imagePullSecrets, [{ name: REGISTRY.name }], "demo pod imagePullSecrets");
        const creds = await t.kvData(REGISTRY.path);
        assert(creds.password === t.registryPassword, "Vault's registry password is not the configured secret");
        // Wrong password in Vault -> ESO re-renders the pull secret -> a fresh pull fails.
        const ref = p.spec.containers[0].image;
        const authOf = async () => {
            const dcj = JSON.parse((await t.secretOf(REGISTRY.name))[".dockerconfigjson"]);
            return Buffer.from(dcj.auths[registry].auth, "base64").toString("utf8");
        };
        await t.kvWrite(REGISTRY.path, { ...creds, password: "wrong-" + randomBytes(6).toString("hex") });
        await waitFor("the pull secret to carry the wrong password", async () => (await authOf()) !== `${creds.username}:${creds.password}`, { timeoutMs: (REFRESH_SECONDS + 20) * 1000 });
        t.ctr(["images", "rm", ref]);
        await t.deletePod(APP_NS, p.metadata.name);
        const failing = await waitFor("ErrImagePull", async () => {
            const d = await t.demoPod(p.metadata.name);
            const w = d?.status?.containerStatuses?.[0]?.state?.waiting;
            return w && /ErrImagePull|ImagePullBackOff/.test(w.reason) ? { pod: d, reason: w.reason, message: w.message ?? "" } : undefined;
        }, { timeoutMs: 90000 });
        assert(/401|unauthorized|authoriz/i.test(failing.message), `pull failure is not an auth failure: ${failing.message.slice(0, 300)}`);
        // The right password back: after ESO's next refresh a new pod pulls and runs.
        await t.kvWrite(REGISTRY.path, creds);
        await waitFor("the pull secret to carry the right password", async () => (await authOf()) === `${creds.username}:${creds.password}`, { timeoutMs: (REFRESH_SECONDS + 20) * 1000 });
        await t.deletePod(APP_NS, failing.pod.metadata.name);
        p = await waitFor("demo pod Running again", async () => {
            const d = await t.demoPod(failing.pod.metadata.name);
            return d && isRunning(d) ? d : undefined;
        }, { timeoutMs: 120000 });
        const events = (await t.kube().get(`/api/v1/namespaces/${APP_NS}/events?fieldSelector=involvedObject.name%3D${p.metadata.name}`)).json.items;
        assert(events.some((e) => e.reason === "Pulled" && e.message.includes(registry)), "no Pulled event from the registry for the new pod");
        return [`anonymous pull 401; wrong password -> ${failing.reason}: ${failing.message.replace(/\s+/g, " ").slice(-200)}`, `right password -> ${p.metadata.name} Running (pulled from ${registry})`];
    });

export const noChanges = (r, t, n) =>
    r.check(n, "second pulumi up: no changes; preview --expect-no-changes", async () => {
        dependsOnUp(t);
        const up = await t.POk(["up", "--yes", "--skip-preview", "--expect-no-changes", ...cfgArgs(t.dir)]);
        const pv = await t.POk(["preview", "--expect-no-changes", ...cfgArgs(t.dir)]);
        t.timings.noopUp = up.ms;
        t.timings.noopPreview = pv.ms;
        return `up ${secs(up.ms)}, preview ${secs(pv.ms)}`;
    });

export const resealDrill = (r, t, n) => {
    const pod0 = t.podName(0);
    return r.check(n, `${pod0} deleted: back sealed and NotReady; preview and up are exactly the unseal step; no data lost; every ExternalSecret syncs again`, async () => {
        dependsOnUp(t);
        const keep = {};
        for (const d of DECLARED) keep[d.path] = await t.kvData(d.path);
        const old = await t.pod(VAULT_NS, pod0);
        await t.deletePod(VAULT_NS, pod0);
        const t0 = Date.now();
        await waitFor(`a new ${pod0} Running`, async () => {
            const p = await t.pod(VAULT_NS, pod0);
            return p && p.metadata.uid !== old.metadata.uid && isRunning(p);
        }, { timeoutMs: 120000 });
        const h = await waitFor(`the new ${pod0} answering`, () => t.health().catch(() => undefined), { timeoutMs: 60000 });
        assert(h.sealed === true, `the new ${pod0} is not sealed (sealed=${h.sealed})`);
        assert(!isReady(await t.pod(VAULT_NS, pod0)), `the sealed ${pod0} is Ready`);
        // Exactly the unseal step, previewed and applied (test/e2e/checks/previews.mjs).
        const pv = await t.POk(["preview", "--json", ...cfgArgs(t.dir)]);
        const changes = plannedSteps(pv.stdout);
        sameSteps(changes, RESEAL_STEPS, `preview with ${pod0} sealed`);
        assert(/VaultInit: sealed: /.test(pv.stdout), "the preview does not say that Vault is sealed");
        const up = await t.POk(["up", "--yes", "--skip-preview", "--json", ...cfgArgs(t.dir)]);
        sameSteps(appliedSteps(up.stdout), RESEAL_STEPS, `the up that unseals ${pod0}`);
        await waitFor(`${pod0} Ready`, async () => isReady(await t.pod(VAULT_NS, pod0)), { timeoutMs: 60000 });
        t.timings.resealToReady = Date.now() - t0;
        t.timings.resealUp = up.ms;
        for (const d of DECLARED) eq(await t.kvData(d.path), keep[d.path], `${KV}/${d.path} after the pod came back`);
        await waitFor("every ExternalSecret synced", async () => t.assertSynced().then(() => true, () => false), { timeoutMs: 90000, intervalMs: 1000 });
        return `preview = up: ${changes.join(", ")}; up ${secs(up.ms)}; data kept; Ready again`;
    });
};

export const secretGuard = (r, t, n) =>
    r.check(n, `tenantSecretGuard in ${APP_NS} (real pods): ESO's pod keeps syncing; a tenant user's and the admin's hand-made Secrets are denied with the guard's message; system types pass`, async () => {
        dependsOnUp(t);
        const d = DECLARED[0];
        const touch = async () => {
            const value = randomBytes(12).toString("base64url");
            await t.kvWrite(d.path, { ...(await t.kvData(d.path)), [d.keys[0]]: value });
            await waitFor(`ESO wrote the new value into ${APP_NS}/${d.name}`, async () => (await t.secretOf(d.name))[d.keys[0]] === value, { timeoutMs: 60000 });
        };
        return secretGuardDrill(t.kube(), { namespace: APP_NS, synced: d.name, touch });
    });

export const exportClean = (r, t, n) =>
    r.check(n, "pulumi stack export holds no plaintext unseal key, admin token, registry password or seeded value", async () => {
        dependsOnUp(t);
        const exp = (await t.POk(["stack", "export", "--stack", STACK])).stdout;
        const keys = await t.stackOutputSecret("vaultUnsealKeys");
        const secrets = [["admin token", await t.adminToken()], ["registry password", t.registryPassword]];
        keys.forEach((k, i) => secrets.push([`unseal key ${i + 1}`, k]));
        for (const d of DECLARED) {
            const v = await t.kvData(d.path);
            for (const k of d.keys) secrets.push([`seeded ${d.path}.${k}`, v[k]]);
        }
        secretsAbsent(exp, secrets, "pulumi stack export");
        return `${secrets.length} secret values: none in the export`;
    });

export const destroy = (r, t, n) =>
    r.check(n, "pulumi destroy --run-program (tunnel open while Vault resources go); Vault data volume kept", async () => {
        dependsOnUp(t);
        const res = await t.POk(["destroy", "--yes", "--skip-preview", "--run-program", ...cfgArgs(t.dir)]);
        const exp = JSON.parse((await t.POk(["stack", "export", "--stack", STACK])).stdout);
        eq((exp.deployment.resources ?? []).length, 0, "resources left in state");
        const claim = `data-${t.podName(0)}`;
        const pvc = await t.kube().get(`/api/v1/namespaces/${VAULT_NS}/persistentvolumeclaims/${claim}`);
        eq(pvc.status, 200, `Vault's data claim ${claim} after destroy (the namespace is retained)`);
        return `destroy ${secs(res.ms)}; 0 resources; ${claim} kept`;
    });

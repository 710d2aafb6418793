// The cluster tier (`npm run test:e2e -- --cluster`): the real engine deploys the program in chart
// mode onto a one-node cluster from parts (scripts/local/lib/cluster.mjs): the Vault chart's pod,
// the ESO chart's controller pod and the demo Deployment pulling from a private registry. Vault is
// queried on its pod IP from this host (the node bridge); secrets stay in memory.
//   KEEP=1 ...         leave the cluster running (stop: npm run local -- --down --dir <dir>)
//   E2E_NO_HA=1 ...    skip the 3-replica raft phase; E2E_ONLY_HA=1: only that phase
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    Kube, STACK, bringUpCluster, cfgArgs, clusterPrerequisites, log, missingPlugins, nodePaths, paths, pulumi, pulumiEnv, pulumiOk, readState, tearDownCluster, toolPath, waitFor,
} from "../../scripts/local/lib.mjs";
import { assert, condition, decodeData, eq, secretsAbsent, stepsOf } from "./lib/assertions.mjs";
import { APP_NS, DECLARED, ESO_NS, KV, READER_SA, REFRESH_SECONDS, REGISTRY_SECRET, ROLE, VAULT_NS } from "./lib/stack.mjs";

// registryServer is the cluster's own registry (state.json), set when the cluster comes up.
const REGISTRY = REGISTRY_SECRET;

const dir = fs.mkdtempSync(path.join(process.env.E2E_TMPDIR || os.tmpdir(), "vault-eso-cluster-"));
const ctx = { registryPassword: randomBytes(18).toString("base64url"), timings: {} };
const results = [];

async function check(n, title, fn) {
    const t0 = Date.now();
    log(`--- check ${n}: ${title}`);
    try {
        const notes = await fn();
        results.push({ n, title, ok: true });
        log(`PASS ${n} ${title} (${((Date.now() - t0) / 1000).toFixed(1)}s)${notes ? `\n       ${[].concat(notes).join("\n       ")}` : ""}`);
    } catch (e) {
        results.push({ n, title, ok: false, error: e.message });
        log(`FAIL ${n} ${title}: ${e.message}`);
        if (e.result) log(`pulumi output tail:\n${(e.result.stdout + e.result.stderr).slice(-3000)}`);
    }
}

// ---------------------------------------------------------------- helpers

const kube = () => Kube.admin(dir);
const P = (args, opts = {}) => pulumi(dir, args, { env: ctx.env, ...opts });
const POk = (args, opts = {}) => pulumiOk(dir, args, { env: ctx.env, ...opts });
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;

async function stackOutputSecret(name) {
    return JSON.parse((await POk(["stack", "output", name, "--show-secrets", "--json", "--stack", STACK])).stdout);
}

async function pod(ns, name) {
    const r = await kube().get(`/api/v1/namespaces/${ns}/pods/${name}`);
    return r.status === 200 ? r.json : undefined;
}

const isReady = (p) => condition(p, "Ready")?.status === "True";
const isRunning = (p) => p?.status?.phase === "Running" && (p.status.containerStatuses ?? []).every((c) => c.state?.running);

/** Vault's HTTP API on the pod's IP (this host sits on the node bridge). */
async function vault(method, apiPath, body, token, podName = "vault-0") {
    const p = await pod(VAULT_NS, podName);
    assert(p?.status?.podIP, `${podName} has no pod IP`);
    const headers = { "Content-Type": "application/json" };
    if (token) headers["X-Vault-Token"] = token;
    const r = await fetch(`http://${p.status.podIP}:8200/v1/${apiPath}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json;
    try {
        json = text ? JSON.parse(text) : undefined;
    } catch {
        json = undefined;
    }
    return { status: r.status, json };
}

async function health(podName = "vault-0") {
    return (await vault("GET", "sys/health?standbyok=true&sealedcode=200&uninitcode=200", undefined, undefined, podName)).json;
}

async function adminToken() {
    if (!ctx.adminToken) ctx.adminToken = await stackOutputSecret("vaultAdminToken");
    return ctx.adminToken;
}

async function kvData(p) {
    const r = await vault("GET", `${KV}/data/${p}`, undefined, await adminToken());
    assert(r.status === 200, `GET ${KV}/data/${p}: HTTP ${r.status}`);
    return r.json.data.data;
}

async function kvWrite(p, data) {
    const r = await vault("POST", `${KV}/data/${p}`, { data }, await adminToken());
    assert(r.status === 200, `POST ${KV}/data/${p}: HTTP ${r.status}`);
}

const secretOf = async (name) => decodeData((await kube().get(`/api/v1/namespaces/${APP_NS}/secrets/${name}`)).json ?? {});

/** Every ExternalSecret Ready and every target Secret equal to Vault. */
async function assertSynced() {
    const list = (await kube().get(`/apis/external-secrets.io/v1/namespaces/${APP_NS}/externalsecrets`)).json?.items ?? [];
    eq(list.map((i) => i.metadata.name).sort(), [...DECLARED.map((d) => d.name), REGISTRY.name].sort(), "ExternalSecrets");
    for (const es of list) {
        const c = condition(es, "Ready");
        assert(c?.status === "True" && c.reason === "SecretSynced", `ExternalSecret ${es.metadata.name}: Ready=${c?.status} ${c?.reason} ${c?.message ?? ""}`);
    }
    for (const d of DECLARED) {
        const got = await secretOf(d.name);
        const kv = await kvData(d.path);
        for (const k of d.keys) assert(got[k] && got[k] === kv[k], `Secret ${d.name}.${k} differs from Vault ${KV}/${d.path}`);
    }
}

/** The demo pod (one replica); `not`: a pod name to ignore (the one just deleted). */
async function demoPod(not) {
    const items = (await kube().get(`/api/v1/namespaces/${APP_NS}/pods?labelSelector=app%3Dgo-sample`)).json?.items ?? [];
    return items.find((p) => p.metadata.name !== not && !p.metadata.deletionTimestamp);
}

async function deletePod(ns, name) {
    const r = await kube().request("DELETE", `/api/v1/namespaces/${ns}/pods/${name}`, { gracePeriodSeconds: 0 });
    assert(r.status === 200 || r.status === 202, `delete pod ${ns}/${name}: HTTP ${r.status}`);
}

/** Watches a pod while `during` runs: samples of { running, ready }. */
async function watchPod(ns, name, during) {
    const samples = [];
    let done = false;
    const poll = (async () => {
        while (!done) {
            const p = await pod(ns, name).catch(() => undefined);
            if (p) samples.push({ t: Date.now(), uid: p.metadata.uid, running: isRunning(p), ready: isReady(p) });
            await new Promise((r) => setTimeout(r, 250));
        }
    })();
    try {
        return { result: await during(), samples };
    } finally {
        done = true;
        await poll;
    }
}

/** Port-forward requests to a pod in the apiserver's audit log (cluster.mjs turns it on). */
function portForwards(podName) {
    const file = path.join(paths(dir).logs, "apiserver-audit.log");
    if (!fs.existsSync(file)) return [];
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((e) => e.objectRef?.subresource === "portforward" && e.objectRef?.name === podName && e.stage === "ResponseStarted");
}

/** Processes named vault/bao/external-secrets that do not run under a containerd shim (host processes). */
function hostProcessesNamed(names) {
    const found = [];
    for (const pid of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
        let exe;
        try {
            exe = path.basename(fs.readlinkSync(`/proc/${pid}/exe`));
        } catch {
            continue;
        }
        if (!names.includes(exe)) continue;
        let p = pid;
        let underShim = false;
        for (let i = 0; i < 20 && p && p !== "1"; i++) {
            try {
                if (fs.readlinkSync(`/proc/${p}/exe`).endsWith("containerd-shim-runc-v2")) underShim = true;
                p = fs.readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ")[1];
            } catch {
                break;
            }
        }
        if (!underShim) found.push(`${pid} ${exe}`);
    }
    return found;
}

/** TCP/UDP listeners in this (host) network namespace of the cluster's daemons and the program's processes. */
function ourListeners() {
    // Our daemons and everything below them or below this test (pulumi, its plugins, the tunnel host).
    const parent = new Map();
    for (const pid of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
        try {
            parent.set(pid, fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1]);
        } catch {
            /* gone */
        }
    }
    const roots = new Set([String(process.pid), ...fs.readdirSync(paths(dir).pids).map((f) => fs.readFileSync(path.join(paths(dir).pids, f), "utf8").trim())]);
    const ours = (pid) => {
        for (let p = pid, i = 0; p && p !== "0" && i < 64; p = parent.get(p), i++) if (roots.has(p)) return true;
        return false;
    };
    const out = execFileSync("ss", ["-lntupH"], { encoding: "utf8" });
    const found = [];
    for (const line of out.split("\n").filter(Boolean)) {
        const cols = line.trim().split(/\s+/);
        const addr = cols[4];
        for (const [, name, pid] of line.matchAll(/\("([^"]+)",pid=(\d+)/g)) {
            if (ours(pid)) found.push({ name, pid, addr: addr.replace(/%\S+:/, ":") });
        }
    }
    return found;
}

/** A root token from the unseal keys (`operator generate-root`), as an operator would; revoke it after use. */
async function generateRoot(podName, keys) {
    const cur = await vault("GET", "sys/generate-root/attempt", undefined, undefined, podName);
    if (cur.json?.started) await vault("DELETE", "sys/generate-root/attempt", undefined, undefined, podName);
    const start = await vault("PUT", "sys/generate-root/attempt", {}, undefined, podName);
    assert(start.status === 200, `generate-root attempt: HTTP ${start.status}`);
    const { nonce, otp, required } = start.json;
    for (const key of keys.slice(0, required)) {
        const r = await vault("PUT", "sys/generate-root/update", { key, nonce }, undefined, podName);
        if (r.json?.complete) {
            const enc = Buffer.from(r.json.encoded_token, "base64");
            return Buffer.from(enc.map((b, n) => b ^ otp.charCodeAt(n))).toString("utf8");
        }
    }
    throw new Error("generate-root did not complete");
}

const ctr = (args) => execFileSync(toolPath("ctr"), ["--address", nodePaths(dir).containerdSock, "-n", "k8s.io", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

// ---------------------------------------------------------------- the checks

async function standalone() {
    await check(1, "pulumi preview --policy-pack policies in chart mode: no violation", async () => {
        const r = await POk(["preview", ...cfgArgs(dir), "--policy-pack", "policies", "--policy-pack-config", path.join("policies", "config", `${STACK}.json`)]);
        const out = r.stdout + r.stderr;
        assert(/Policies:|Policy Packs run|vault-eso-platform/i.test(out), "no policy pack in the preview output");
        assert(!/mandatory|advisory|violation/i.test(out.replace(/Policy Violations:\s*$/m, "")), `policy violations reported:\n${out.slice(-2000)}`);
        return `preview with the pack ${secs(r.ms)}`;
    });

    await check(2, "pulumi up in chart mode: vault-0 NotReady while sealed, Ready once the provider unsealed it through the API server's port-forward; no host-process Vault or ESO", async () => {
        const { result: up, samples } = await watchPod(VAULT_NS, "vault-0", () => POk(["up", "--yes", "--skip-preview", ...cfgArgs(dir)]));
        ctx.upDone = true;
        ctx.timings.up = up.ms;
        const sealedRunning = samples.filter((s) => s.running && !s.ready);
        assert(sealedRunning.length > 0, `vault-0 was never seen Running and NotReady during pulumi up (${samples.length} samples)`);
        const h = await health();
        assert(h.initialized === true && h.sealed === false, `after up: initialized=${h.initialized} sealed=${h.sealed}`);
        await waitFor("vault-0 Ready", async () => isReady(await pod(VAULT_NS, "vault-0")), { timeoutMs: 30000 });
        const pf = portForwards("vault-0");
        assert(pf.length > 0, "no port-forward to vault-0 in the apiserver audit log");
        const users = [...new Set(pf.map((e) => e.user.username))];
        const host = hostProcessesNamed(["vault", "bao", "external-secrets"]);
        eq(host, [], "Vault/OpenBao/ESO processes outside containers");
        const listeners = ourListeners();
        const stray = listeners.filter((l) => !/^(127\.0\.0\.1|\[::1\]|10\.214\.0\.1):\d+$/.test(l.addr));
        eq(stray.map((l) => `${l.name} ${l.addr}`), [], "host listeners of the cluster's processes outside loopback and the node bridge");
        return [
            `up ${secs(up.ms)}; vault-0 Running+NotReady in ${sealedRunning.length} of ${samples.length} samples, then Ready; Vault ${h.version} unsealed`,
            `${pf.length} port-forward requests to vault-0 by ${users.join(", ")} (apiserver audit log)`,
            `${listeners.length} listening sockets of ${new Set(listeners.map((l) => l.name)).size} host processes, all on loopback or ${readState(dir).apiHost}`,
        ];
    });

    await check(3, "ESO's own controller pod syncs every ExternalSecret; values equal Vault", async () => {
        assert(ctx.upDone, "depends on check 2");
        const pods = (await kube().get(`/api/v1/namespaces/${ESO_NS}/pods`)).json.items;
        assert(pods.length > 0 && pods.every((p) => isRunning(p) && isReady(p)), `ESO pods: ${pods.map((p) => `${p.metadata.name}:${p.status.phase}`).join(", ")}`);
        const t0 = Date.now();
        await waitFor("every ExternalSecret synced", async () => assertSynced().then(() => true, (e) => ((ctx.lastSync = e), false)), { timeoutMs: 120000, intervalMs: 1000 }).catch(() => {
            throw ctx.lastSync ?? new Error("not synced");
        });
        ctx.timings.synced = ctx.timings.up + (Date.now() - t0);
        return `${pods.map((p) => `${p.metadata.name} (${p.spec.containers[0].image})`).join(", ")}; ${DECLARED.length + 1} ExternalSecrets Ready`;
    });

    await check(4, "least privilege: a token of ESO's role (Vault's TokenReview through the in-cluster API) reads the declared paths, 403 elsewhere", async () => {
        assert(ctx.upDone, "depends on check 2");
        const jwt = await kube().token(APP_NS, READER_SA, { audiences: ["vault"], expirationSeconds: 600 });
        const login = await vault("POST", "auth/kubernetes/login", { role: ROLE, jwt });
        assert(login.status === 200, `login as ${APP_NS}/vault-secret-reader: HTTP ${login.status} ${JSON.stringify(login.json?.errors ?? "")}`);
        const t = login.json.auth.client_token;
        for (const p of [...DECLARED.map((d) => d.path), REGISTRY.path]) {
            const r = await vault("GET", `${KV}/data/${p}`, undefined, t);
            assert(r.status === 200, `reader GET ${KV}/data/${p}: HTTP ${r.status}`);
        }
        const denied = [["GET", `${KV}/data/undeclared/extra`], ["POST", `${KV}/data/path_to_secret`, { data: { password: "x" } }], ["LIST", `${KV}/metadata`], ["GET", "sys/mounts"]];
        for (const [m, p, b] of denied) {
            const r = await vault(m, p, b, t);
            assert(r.status === 403, `reader ${m} ${p}: expected 403, got ${r.status}`);
        }
        const other = await kube().token(APP_NS, "default", { audiences: ["vault"], expirationSeconds: 600 });
        const r2 = await vault("POST", "auth/kubernetes/login", { role: ROLE, jwt: other });
        assert(r2.status >= 400, `login as ${APP_NS}/default: HTTP ${r2.status}`);
        return `reader: 200 on ${DECLARED.length + 1} declared paths; 403 on ${denied.map((d) => `${d[0]} ${d[1]}`).join(", ")}; other SA -> ${r2.status}`;
    });

    await check(5, "the demo pod pulls its image from the local registry (basic auth) with only the pull secret ESO rendered from Vault; a wrong password -> ErrImagePull; the right one after the next refresh -> Running", async () => {
        assert(ctx.upDone, "depends on check 2");
        const st = readState(dir);
        const registry = `${st.apiHost}:${st.registryPort}`;
        const anon = await fetch(`http://${registry}/v2/demo/go-sample/manifests/1`);
        eq(anon.status, 401, "anonymous manifest request to the registry");
        let p = await waitFor("demo pod Running", async () => {
            const d = await demoPod();
            return d && isRunning(d) ? d : undefined;
        }, { timeoutMs: 120000 });
        assert(p.spec.containers[0].image.startsWith(registry), `demo image ${p.spec.containers[0].image} is not from ${registry}`);
        eq(p.spec.imagePullSecrets, [{ name: REGISTRY.name }], "demo pod imagePullSecrets");
        const creds = await kvData(REGISTRY.path);
        assert(creds.password === ctx.registryPassword, "Vault's registry password is not the configured secret");
        // Wrong password in Vault -> ESO re-renders the pull secret -> a fresh pull fails.
        const ref = p.spec.containers[0].image;
        const authOf = async () => {
            const dcj = JSON.parse((await secretOf(REGISTRY.name))[".dockerconfigjson"]);
            return Buffer.from(dcj.auths[registry].auth, "base64").toString("utf8");
        };
        await kvWrite(REGISTRY.path, { ...creds, password: "wrong-" + randomBytes(6).toString("hex") });
        await waitFor("the pull secret to carry the wrong password", async () => (await authOf()) !== `${creds.username}:${creds.password}`, { timeoutMs: (REFRESH_SECONDS + 20) * 1000 });
        ctr(["images", "rm", ref]);
        await deletePod(APP_NS, p.metadata.name);
        const failing = await waitFor("ErrImagePull", async () => {
            const d = await demoPod(p.metadata.name);
            const w = d?.status?.containerStatuses?.[0]?.state?.waiting;
            return w && /ErrImagePull|ImagePullBackOff/.test(w.reason) ? { pod: d, reason: w.reason, message: w.message ?? "" } : undefined;
        }, { timeoutMs: 90000 });
        assert(/401|unauthorized|authoriz/i.test(failing.message), `pull failure is not an auth failure: ${failing.message.slice(0, 300)}`);
        // The right password back: after ESO's next refresh a new pod pulls and runs.
        await kvWrite(REGISTRY.path, creds);
        await waitFor("the pull secret to carry the right password", async () => (await authOf()) === `${creds.username}:${creds.password}`, { timeoutMs: (REFRESH_SECONDS + 20) * 1000 });
        await deletePod(APP_NS, failing.pod.metadata.name);
        p = await waitFor("demo pod Running again", async () => {
            const d = await demoPod(failing.pod.metadata.name);
            return d && isRunning(d) ? d : undefined;
        }, { timeoutMs: 120000 });
        const events = (await kube().get(`/api/v1/namespaces/${APP_NS}/events?fieldSelector=involvedObject.name%3D${p.metadata.name}`)).json.items;
        assert(events.some((e) => e.reason === "Pulled" && e.message.includes(registry)), "no Pulled event from the registry for the new pod");
        return [`anonymous pull 401; wrong password -> ${failing.reason}: ${failing.message.replace(/\s+/g, " ").slice(-200)}`, `right password -> ${p.metadata.name} Running (pulled from ${registry})`];
    });

    await check(6, "second pulumi up: no changes; preview --expect-no-changes", async () => {
        assert(ctx.upDone, "depends on check 2");
        const up = await POk(["up", "--yes", "--skip-preview", "--expect-no-changes", ...cfgArgs(dir)]);
        const pv = await POk(["preview", "--expect-no-changes", ...cfgArgs(dir)]);
        ctx.timings.noopUp = up.ms;
        ctx.timings.noopPreview = pv.ms;
        return `up ${secs(up.ms)}, preview ${secs(pv.ms)}`;
    });

    await check(7, "vault-0 deleted: back sealed and NotReady; preview shows the drift; up unseals it; no data lost", async () => {
        assert(ctx.upDone, "depends on check 2");
        const keep = {};
        for (const d of DECLARED) keep[d.path] = await kvData(d.path);
        const old = await pod(VAULT_NS, "vault-0");
        await deletePod(VAULT_NS, "vault-0");
        const t0 = Date.now();
        await waitFor("a new vault-0 Running", async () => {
            const p = await pod(VAULT_NS, "vault-0");
            return p && p.metadata.uid !== old.metadata.uid && isRunning(p);
        }, { timeoutMs: 120000 });
        const h = await waitFor("the new vault-0 answering", () => health().catch(() => undefined), { timeoutMs: 60000 });
        assert(h.sealed === true, `the new vault-0 is not sealed (sealed=${h.sealed})`);
        assert(!isReady(await pod(VAULT_NS, "vault-0")), "the sealed vault-0 is Ready");
        const pv = await POk(["preview", "--json", ...cfgArgs(dir)]);
        const changes = stepsOf(pv.stdout).filter((s) => s.op !== "same");
        const init = changes.filter((s) => /::platform-init$/.test(s.urn));
        assert(init.length === 1 && init[0].op === "update", `expected an update of the init resource, got ${JSON.stringify(changes.map((c) => `${c.op} ${c.urn.split("::").pop()}`))}`);
        const up = await POk(["up", "--yes", "--skip-preview", ...cfgArgs(dir)]);
        await waitFor("vault-0 Ready", async () => isReady(await pod(VAULT_NS, "vault-0")), { timeoutMs: 60000 });
        ctx.timings.resealToReady = Date.now() - t0;
        ctx.timings.resealUp = up.ms;
        for (const d of DECLARED) eq(await kvData(d.path), keep[d.path], `${KV}/${d.path} after the pod came back`);
        await waitFor("every ExternalSecret synced", async () => assertSynced().then(() => true, () => false), { timeoutMs: 90000, intervalMs: 1000 });
        return `preview: ${changes.map((c) => `${c.op} ${c.urn.split("::").pop()}`).join(", ")}; up ${secs(up.ms)}; data kept; Ready again`;
    });

    await check(8, "pulumi stack export holds no plaintext unseal key, admin token, registry password or seeded value", async () => {
        assert(ctx.upDone, "depends on check 2");
        const exp = (await POk(["stack", "export", "--stack", STACK])).stdout;
        const keys = await stackOutputSecret("vaultUnsealKeys");
        const secrets = [["admin token", await adminToken()], ["registry password", ctx.registryPassword]];
        keys.forEach((k, i) => secrets.push([`unseal key ${i + 1}`, k]));
        for (const d of DECLARED) {
            const v = await kvData(d.path);
            for (const k of d.keys) secrets.push([`seeded ${d.path}.${k}`, v[k]]);
        }
        secretsAbsent(exp, secrets, "pulumi stack export");
        return `${secrets.length} secret values: none in the export`;
    });

    await check(9, "pulumi destroy --run-program (tunnel open while Vault resources go); Vault data volume kept", async () => {
        assert(ctx.upDone, "depends on check 2");
        const r = await POk(["destroy", "--yes", "--skip-preview", "--run-program", ...cfgArgs(dir)]);
        const exp = JSON.parse((await POk(["stack", "export", "--stack", STACK])).stdout);
        eq((exp.deployment.resources ?? []).length, 0, "resources left in state");
        const pvc = await kube().get(`/api/v1/namespaces/${VAULT_NS}/persistentvolumeclaims/data-vault-0`);
        eq(pvc.status, 200, "Vault's data claim after destroy (the namespace is retained)");
        return `destroy ${secs(r.ms)}; 0 resources; data-vault-0 kept`;
    });
}

async function ha() {
    await check(11, "prod-like HA (3 raft replicas): every pod joins and is unsealed, one active; the active pod deleted -> a standby takes over, up unseals the returning pod", async () => {
        const { result: up } = await watchPod(VAULT_NS, "vault-0", () => POk(["up", "--yes", "--skip-preview", ...cfgArgs(dir)]));
        const states = [];
        for (const name of ["vault-0", "vault-1", "vault-2"]) {
            await waitFor(`${name} Ready`, async () => isReady(await pod(VAULT_NS, name)), { timeoutMs: 120000 });
            const h = await health(name);
            assert(h.initialized && !h.sealed, `${name}: initialized=${h.initialized} sealed=${h.sealed}`);
            states.push(`${name} ${h.standby ? "standby" : "active"}`);
        }
        eq(states.filter((s) => s.endsWith("active")).length, 1, "active pods");
        ctx.timings.haUp = up.ms;
        // The active pod deleted: a standby takes over, the pod comes back sealed, and `pulumi up`
        // (its tunnel following the new active pod's label) unseals it. Raft only elects a new
        // leader among voters: new peers are non-voters until autopilot promotes them, so wait for
        // three voters first (with a root token generated from the keys, revoked afterwards).
        const active = states.find((s) => s.endsWith("active")).split(" ")[0];
        const root = await generateRoot(active, await stackOutputSecret("vaultUnsealKeys"));
        const voters = await waitFor("3 raft voters", async () => {
            const r = await vault("GET", "sys/storage/raft/autopilot/state", undefined, root, active);
            return r.status === 200 && (r.json?.data?.voters ?? r.json?.voters ?? []).length === 3 ? r.json.data?.voters ?? r.json.voters : undefined;
        }, { timeoutMs: 120000, intervalMs: 1000 });
        await vault("POST", "auth/token/revoke-self", {}, root, active);
        const old = await pod(VAULT_NS, active);
        await deletePod(VAULT_NS, active);
        const leader = await waitFor("a standby to take over", async () => {
            for (const name of ["vault-0", "vault-1", "vault-2"].filter((n) => n !== active)) {
                const h = await health(name).catch(() => undefined);
                if (h && !h.sealed && !h.standby) return name;
            }
            return undefined;
        }, { timeoutMs: 120000 });
        await waitFor(`${active} back and sealed`, async () => {
            const p = await pod(VAULT_NS, active);
            return p && p.metadata.uid !== old.metadata.uid && isRunning(p) && (await health(active).catch(() => undefined))?.sealed === true;
        }, { timeoutMs: 120000 });
        const up2 = await POk(["up", "--yes", "--skip-preview", ...cfgArgs(dir)]);
        await waitFor(`${active} Ready`, async () => isReady(await pod(VAULT_NS, active)), { timeoutMs: 60000 });
        const h2 = await health(active);
        assert(!h2.sealed && h2.standby, `${active} after up: sealed=${h2.sealed} standby=${h2.standby}`);
        return [`up ${secs(up.ms)}: ${states.join(", ")}; raft voters ${voters.length}`, `${active} deleted: ${leader} took over; ${active} back sealed, unsealed by up (${secs(up2.ms)}), now a standby`];
    });
}

async function down(n) {
    await check(n, "--down: every process, mount, link, iptables rule, sysctl, cgroup and host dir as before the cluster started", async () => {
        const t0 = Date.now();
        const { report, left } = await tearDownCluster(dir);
        eq(left, [], "host differences after --down");
        return `${secs(Date.now() - t0)}; ${report.length ? report.join("; ") : "nothing needed restoring beyond the components' own cleanup"}`;
    });
}

async function bring(opts) {
    const t0 = Date.now();
    await bringUpCluster(dir, { registryPassword: ctx.registryPassword, ...opts });
    ctx.env = pulumiEnv(dir);
    ctx.adminToken = undefined;
    const missing = missingPlugins(ctx.env);
    if (missing.length) throw new Error(`provider plugins missing: ${missing.join(", ")} (tools/README.md "Provider plugins")`);
    return Date.now() - t0;
}

let exitCode = 0;
const missing = clusterPrerequisites();
// The provider plugins as `pulumi up` will look them up (the data dir only names the backend).
const plugins = missingPlugins(pulumiEnv(dir));
if (plugins.length) missing.push(`provider plugins ${plugins.join(", ")} (tools/README.md "Provider plugins")`);
if (missing.length) {
    fs.rmSync(dir, { recursive: true, force: true });
    console.log(`tier cluster: not run: missing ${missing.join("; ")}`);
    process.exit(process.argv.includes("--cluster-if-present") ? 0 : 1);
}
try {
    log(`data dir ${dir}`);
    log("tier: cluster (one-node cluster from parts, real pulumi up in chart mode)");
    if (process.env.E2E_ONLY_HA !== "1") {
        try {
            ctx.timings.setup = await bring({});
            log(`cluster ready in ${secs(ctx.timings.setup)}`);
            await standalone();
        } catch (e) {
            results.push({ n: 0, title: "setup", ok: false, error: e.message });
            log(`setup failed: ${e.stack}`);
        }
    }
    if (process.env.KEEP !== "1") {
        if (process.env.E2E_ONLY_HA !== "1") await down(10);
        if (process.env.E2E_NO_HA !== "1") {
            try {
                ctx.timings.haSetup = await bring({ ha: true });
                await ha();
            } catch (e) {
                results.push({ n: 11, title: "HA setup", ok: false, error: e.message });
            }
            await down(12);
        }
    }
} catch (e) {
    results.push({ n: -1, title: "runner", ok: false, error: e.stack });
}
if (process.env.KEEP === "1") log(`KEEP=1: left everything running in ${dir} (stop with: npm run local -- --down --dir ${dir})`);
const passed = results.filter((r) => r.ok).length;
const failed = results.filter((r) => !r.ok).length;
console.log(`\nsummary, tier cluster (one-node cluster from parts, real pulumi up in chart mode):`);
for (const r of results) console.log(`  ${r.ok ? "PASS" : "FAIL"} ${r.n} ${r.title}${r.ok ? "" : `\n       ${r.error.split("\n")[0]}`}`);
console.log(`timings (ms): ${JSON.stringify(ctx.timings)}`);
if (failed > 0) exitCode = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode);

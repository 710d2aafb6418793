#!/usr/bin/env node
// End-to-end test (`npm run test:e2e`): the real Pulumi engine deploys the program (stack "local")
// onto a loopback control plane, with OpenBao and the external-secrets controller running as host
// processes (scripts/local/lib.mjs). Asserts on what the servers report, never on what the program
// says. Secrets (admin token, unseal keys, reviewer JWT, seeded values) stay in memory: assertion
// messages say "differs", never the values.
//
//   node test/e2e/run.mjs              everything in a temp data dir, removed at the end
//   KEEP=1 node test/e2e/run.mjs       keep the data dir and processes for inspection
//   E2E_ONLY=1,2,3 ...                 run only these checks (later checks depend on earlier ones)
//   --manual-if-no-plugins (E2E_MANUAL=auto)  the real engine if the plugins exist, else --manual
//   --fleet                            the fleet tier instead (test/e2e/fleet.mjs): an OpenBao hub and 3 spoke
//                                      control planes driven by `npm run fleet`
//   --cluster                          the cluster tier instead (test/e2e/cluster.mjs); --cluster-if-present: the
//                                      same, or "tier cluster: not run" with the reason (exit 0) without its tools
//   --manual (or E2E_MANUAL=1)         without the Pulumi provider plugins: scripts/local/manual.mjs wires the
//                                      same objects by hand instead of `pulumi up`; the server-side assertions
//                                      of checks 2, 3, 5, 6 run against that, check 7 runs for real, checks that
//                                      only make sense with Pulumi state (1, 4, 8, 9 and 6's preview) are skipped
// Checks 1-11 run in order on one stack; 12-15 (a `pulumi up` SIGKILLed at each point of the init
// create) and 16 (Shamir -> transit migration) each start from a fresh OpenBao (checks/crash.mjs).
// Ends with a line "N passed, N failed"; exit code 1 if anything failed.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    Kube, STACK, bao, bringUp, cfgArgs, log, missingPlugins, paths, pulumi, pulumiEnv, pulumiOk, readState, restartBao, stopAll, waitFor,
} from "../../scripts/local/lib.mjs";
import { wireManually } from "../../scripts/local/manual.mjs";
import { assert, canonical, condition, decodeData, eq, secretsAbsent } from "./lib/assertions.mjs";
import { secretGuardDrill } from "./checks/admission.mjs";
import { CRASH_POINTS, crashDrill, migrationDrill } from "./checks/crash.mjs";
import { spokeCheck } from "./checks/spokes.mjs";
import { RESEAL_STEPS, TOKEN_STEPS, appliedSteps, plannedSteps, previewThenUp, sameSteps, tenantPreviewCheck, tenantSteps, upgradeCheck } from "./checks/previews.mjs";
import { Runner, Skip } from "./lib/runner.mjs";
import { APP_NS, DECLARED, ESO_NS, KV, READER_SA, REFRESH_SECONDS, REGISTRY_SECRET, ROLE } from "./lib/stack.mjs";

// Pulumi.local.yaml's registryServer.
const REGISTRY = { ...REGISTRY_SECRET, server: "registry.example.test" };

// The cluster tier has its own checks (chart mode, pods): test/e2e/cluster.mjs, which exits itself.
if (process.argv.includes("--cluster") || process.argv.includes("--cluster-if-present")) await import("./cluster.mjs");
// The fleet tier (a hub and 3 spoke control planes, npm run fleet): test/e2e/fleet.mjs, which exits itself.
if (process.argv.includes("--fleet")) await import("./fleet.mjs");

const dir = fs.mkdtempSync(path.join(process.env.E2E_TMPDIR || os.tmpdir(), "vault-eso-e2e-"));
const ctx = { registryPassword: randomBytes(18).toString("base64url"), timings: {} };
// --manual-if-no-plugins (or E2E_MANUAL=auto): the real engine when the provider plugins exist, else --manual.
const AUTO = process.argv.includes("--manual-if-no-plugins") || process.env.E2E_MANUAL === "auto";
let MANUAL = process.argv.includes("--manual") || process.env.E2E_MANUAL === "1";
const needsPulumi = (what) => {
    if (MANUAL) throw new Skip(`--manual: ${what} needs Pulumi state`);
};
const MANUAL_TIER = "manual (objects wired by hand, not by pulumi up)";
const runner = new Runner({
    tier: MANUAL ? MANUAL_TIER : "engine (real pulumi up)",
    explain: (e) =>
        ctx.missing?.length && /no resource plugin|depends on check 2/.test(e.message)
            ? `blocked: provider plugins missing (${ctx.missing.join(", ")}; tools/README.md): ${e.message}`
            : undefined,
});
const check = (n, title, fn) => runner.check(n, title, fn);

// ---------------------------------------------------------------- helpers over the servers

const kube = () => Kube.admin(dir);
const env = () => ctx.env;
const P = (args, opts = {}) => pulumi(dir, args, { env: env(), ...opts });
const POk = (args, opts = {}) => pulumiOk(dir, args, { env: env(), ...opts });

async function stackOutputSecret(name) {
    const r = await POk(["stack", "output", name, "--show-secrets", "--json", "--stack", STACK]);
    return JSON.parse(r.stdout);
}

/** The admin token the program manages Vault with (stack output vaultAdminToken). */
async function adminToken() {
    if (MANUAL) return rootToken();
    if (!ctx.adminToken) ctx.adminToken = await stackOutputSecret("vaultAdminToken");
    return ctx.adminToken;
}

/**
 * A root token for what the admin token may not do (write an undeclared KV entry, list tokens):
 * the program keeps none, so the test generates one with the unseal keys, as an operator would
 * (`bao operator generate-root`). --manual: the root token of the hand-made init.
 */
async function rootToken() {
    if (!ctx.rootToken && MANUAL) throw new Error("no root token (manual wiring failed)");
    if (!ctx.rootToken) ctx.rootToken = await generateRoot(await stackOutputSecret("vaultUnsealKeys"));
    return ctx.rootToken;
}

async function generateRoot(keys) {
    const cur = await bao(dir, "GET", "sys/generate-root/attempt");
    if (cur.json?.started) await bao(dir, "DELETE", "sys/generate-root/attempt");
    const start = await bao(dir, "PUT", "sys/generate-root/attempt", {});
    assert(start.status === 200, `generate-root attempt: HTTP ${start.status}`);
    const { nonce, otp, required } = start.json;
    for (const key of keys.slice(0, required)) {
        const r = await bao(dir, "PUT", "sys/generate-root/update", { key, nonce });
        if (r.json?.complete) {
            const enc = Buffer.from(r.json.encoded_token, "base64");
            return Buffer.from(enc.map((b, n) => b ^ otp.charCodeAt(n))).toString("utf8");
        }
    }
    throw new Error("generate-root did not complete");
}

/** Accessors of live tokens with the root policy. */
async function liveRootTokens(root) {
    const list = await bao(dir, "GET", "auth/token/accessors?list=true", undefined, root);
    assert(list.status === 200, `list token accessors: HTTP ${list.status}`);
    const out = [];
    for (const accessor of list.json.data.keys) {
        const r = await bao(dir, "POST", "auth/token/lookup-accessor", { accessor }, root);
        if ((r.json?.data?.policies ?? []).includes("root")) out.push(accessor);
    }
    return out;
}

const SEEDED = new Set([...DECLARED.map((d) => d.path), REGISTRY.path]);

/** Seeded entries are read with the admin token (it may); anything else with a generated root token. */
async function kvRead(p, token) {
    const r = await bao(dir, "GET", `${KV}/data/${p}`, undefined, token ?? (SEEDED.has(p) ? await adminToken() : await rootToken()));
    return r;
}

async function kvData(p) {
    const r = await kvRead(p);
    assert(r.status === 200, `GET ${KV}/data/${p}: HTTP ${r.status}`);
    return r.json.data.data;
}

async function getObj(p) {
    const r = await kube().get(p);
    return r;
}

const esPath = (name) => `/apis/external-secrets.io/v1/namespaces/${APP_NS}/externalsecrets/${name}`;
const secretPath = (name) => `/api/v1/namespaces/${APP_NS}/secrets/${name}`;

/** Every ExternalSecret Ready/SecretSynced and every target Secret equal to OpenBao. */
async function assertSynced({ after } = {}) {
    const all = [...DECLARED.map((d) => d.name), REGISTRY.name];
    const list = await getObj(`/apis/external-secrets.io/v1/namespaces/${APP_NS}/externalsecrets`);
    assert(list.status === 200, `list ExternalSecrets: HTTP ${list.status}`);
    eq(list.json.items.map((i) => i.metadata.name).sort(), [...all].sort(), "ExternalSecrets in the app namespace");
    for (const name of all) {
        const es = (await getObj(esPath(name))).json;
        const c = condition(es, "Ready");
        assert(c?.status === "True" && c.reason === "SecretSynced", `ExternalSecret ${name}: Ready=${c?.status} reason=${c?.reason} message=${c?.message}`);
        if (after) assert(Date.parse(es.status.refreshTime) >= after - 1000, `ExternalSecret ${name}: last refresh ${es.status.refreshTime} is before ${new Date(after).toISOString()}`);
    }
    for (const d of DECLARED) {
        const s = await getObj(secretPath(d.name));
        assert(s.status === 200, `Secret ${d.name}: HTTP ${s.status}`);
        const kv = await kvData(d.path);
        const got = decodeData(s.json);
        eq(Object.keys(got).sort(), [...d.keys].sort(), `keys of Secret ${d.name}`);
        for (const k of d.keys) assert(got[k] === kv[k] && got[k].length > 0, `Secret ${d.name}.${k} differs from OpenBao ${KV}/${d.path}`);
    }
    const pull = await getObj(secretPath(REGISTRY.name));
    assert(pull.status === 200, `Secret ${REGISTRY.name}: HTTP ${pull.status}`);
    eq(pull.json.type, "kubernetes.io/dockerconfigjson", `type of ${REGISTRY.name}`);
    eq(Object.keys(pull.json.data ?? {}), [".dockerconfigjson"], `keys of ${REGISTRY.name}`);
    const creds = await kvData(REGISTRY.path);
    assert(creds.username === REGISTRY.username, `OpenBao ${KV}/${REGISTRY.path} username is not the configured one`);
    assert(creds.password === ctx.registryPassword, `OpenBao ${KV}/${REGISTRY.path} password is not the configured secret`);
    const dcj = JSON.parse(decodeData(pull.json)[".dockerconfigjson"]);
    eq(Object.keys(dcj.auths ?? {}), [REGISTRY.server], ".dockerconfigjson auths registries");
    const auth = Buffer.from(dcj.auths[REGISTRY.server].auth, "base64").toString("utf8");
    assert(auth === `${creds.username}:${creds.password}`, ".dockerconfigjson auth does not decode to username:password from OpenBao");
}

async function waitSynced(opts, timeoutMs = 120000) {
    let last;
    try {
        await waitFor("every ExternalSecret synced", async () => {
            try {
                await assertSynced(opts);
                return true;
            } catch (e) {
                last = e;
                return false;
            }
        }, { timeoutMs, intervalMs: 1000 });
    } catch {
        throw last ?? new Error("not synced");
    }
}

// ---------------------------------------------------------------- the checks

async function main() {
    log(`data dir ${dir}`);
    const t0 = Date.now();
    try {
        await bringUp(dir, { registryPassword: ctx.registryPassword });
    } catch (e) {
        runner.fail(0, "setup", e);
        return;
    }
    ctx.env = pulumiEnv(dir);
    ctx.st = readState(dir);
    ctx.timings.setup = Date.now() - t0;
    ctx.missing = missingPlugins(ctx.env);
    if (AUTO && ctx.missing.length && !MANUAL) {
        MANUAL = true;
        runner.tier = MANUAL_TIER;
        log("--manual-if-no-plugins: provider plugins missing, running the --manual variant");
    }
    log(MANUAL
        ? `tier: ${MANUAL_TIER}${ctx.missing.length ? `: provider plugins missing from ${ctx.env.PULUMI_HOME}: ${ctx.missing.join(", ")}` : ": --manual"}`
        : `tier: engine (real pulumi up; plugins from ${ctx.env.PULUMI_HOME}, mode ${ctx.env.LOCAL_PLUGINS})`);
    if (ctx.missing.length) log(`provider plugins missing: ${ctx.missing.join(", ")}${MANUAL ? " (--manual: not needed)" : " - the checks that run pulumi up will fail; --manual runs the server-side checks without them"}`);
    log(`control plane, OpenBao, stack config ready in ${(ctx.timings.setup / 1000).toFixed(1)}s`);

    await check(1, "pulumi preview --policy-pack policies: the program passes; a planted wildcard grant fails with the rule's message", async () => {
        needsPulumi("a policy-pack preview");
        const pack = ["--policy-pack", "policies", "--policy-pack-config", path.join("policies", "config", `${STACK}.json`)];
        const r = await POk(["preview", ...cfgArgs(dir), ...pack]);
        const out = r.stdout + r.stderr;
        assert(/Policies:|Policy Packs run|vault-eso-platform/i.test(out), "no policy pack in the preview output");
        assert(!/mandatory|advisory|violation/i.test(out.replace(/Policy Violations:\s*$/m, "")), `policy violations reported:\n${out.slice(-2000)}`);
        // The same preview with ESO's policy widened to kv/data/* by a test-only preload (test/e2e/plant).
        const plant = path.join(path.dirname(new URL(import.meta.url).pathname), "plant", "widen-policy.cjs");
        const bad = await P(["preview", ...cfgArgs(dir), ...pack], { env: { ...env(), NODE_OPTIONS: `--require ${plant}` } });
        const badOut = bad.stdout + bad.stderr;
        assert(bad.code !== 0, "the preview with a planted kv/data/* grant passed the policy pack");
        assert(/vault-policy-least-privilege/.test(badOut) && /kv\/data\/\*/.test(badOut), `the planted violation's message is not in the output:\n${badOut.slice(-2000)}`);
        const msg = (badOut.match(/^.*kv\/data\/\*.*$/m) ?? [""])[0].trim();
        return [`clean preview with the pack: ${(r.ms / 1000).toFixed(1)}s`, `planted kv/data/* -> exit ${bad.code}: ${msg.slice(0, 200)}`];
    });

    await check(2, "pulumi up: OpenBao initialised/unsealed and configured; store and secrets Ready and equal to OpenBao", async () => {
        let r;
        if (MANUAL) {
            const t = Date.now();
            const w = await wireManually(dir, { registryPassword: ctx.registryPassword });
            ctx.rootToken = w.rootToken;
            ctx.unsealKeys = w.unsealKeys;
            await waitSynced({}, 120000);
            r = { ms: Date.now() - t };
        } else {
            r = await POk(["up", "--yes", "--skip-preview", ...cfgArgs(dir)]);
        }
        ctx.upDone = true;
        ctx.timings.up = r.ms;
        const seal = await bao(dir, "GET", "sys/seal-status");
        assert(seal.json.initialized === true && seal.json.sealed === false, `seal-status initialized=${seal.json.initialized} sealed=${seal.json.sealed}`);
        eq([seal.json.n, seal.json.t], [3, 2], "shares/threshold");
        // Everything below is read with the admin token: it may read what it manages.
        const token = await adminToken();
        const server = `https://127.0.0.1:${ctx.st.apiPort}`;
        const cfg = await bao(dir, "GET", "auth/kubernetes/config", undefined, token);
        assert(cfg.status === 200, `auth/kubernetes/config: HTTP ${cfg.status}`);
        eq(cfg.json.data.kubernetes_host, server, "auth/kubernetes/config kubernetes_host");
        eq(cfg.json.data.kubernetes_ca_cert.trim(), fs.readFileSync(path.join(paths(dir).certs, "ca.crt"), "utf8").trim(), "auth/kubernetes/config kubernetes_ca_cert");
        if ("token_reviewer_jwt_set" in cfg.json.data) eq(cfg.json.data.token_reviewer_jwt_set, true, "token_reviewer_jwt_set");
        const role = await bao(dir, "GET", `auth/kubernetes/role/${ROLE}`, undefined, token);
        assert(role.status === 200, `role ${ROLE}: HTTP ${role.status}`);
        const rd = role.json.data;
        eq(rd.bound_service_account_names, [READER_SA], "role bound_service_account_names");
        eq(rd.bound_service_account_namespaces, [APP_NS], "role bound_service_account_namespaces");
        eq(rd.audience, "vault", "role audience");
        eq([rd.token_ttl, rd.token_max_ttl], [900, 3600], "role token_ttl/token_max_ttl (15m/1h)");
        assert(rd.token_policies.length === 1, `role token_policies: ${JSON.stringify(rd.token_policies)}`);
        ctx.policyName = rd.token_policies[0];
        const pol = await bao(dir, "GET", `sys/policies/acl/${ctx.policyName}`, undefined, token);
        assert(pol.status === 200, `policy ${ctx.policyName}: HTTP ${pol.status}`);
        const hcl = pol.json.data.policy;
        const blocks = [...hcl.matchAll(/path\s+"([^"]+)"\s*\{([^}]*)\}/g)].map((m) => [m[1], m[2].replace(/\s+/g, " ").trim()]);
        const want = [...DECLARED.map((d) => d.path), REGISTRY.path].flatMap((p) => [`${KV}/data/${p}`, `${KV}/metadata/${p}`]).sort();
        eq(blocks.map((b) => b[0]).sort(), want, "policy paths");
        for (const [p, body] of blocks) assert(/capabilities\s*=\s*\[\s*"read"\s*\]/.test(body), `policy path ${p} grants more than read: ${body}`);
        const mounts = await bao(dir, "GET", "sys/mounts", undefined, token);
        const kv = mounts.json.data?.[`${KV}/`] ?? mounts.json[`${KV}/`];
        assert(kv, `no ${KV}/ mount`);
        eq([kv.type, kv.options?.version], ["kv", "2"], `${KV}/ mount type/version`);
        const store = (await getObj(`/apis/external-secrets.io/v1/namespaces/${APP_NS}/secretstores/vault`)).json;
        const sc = condition(store, "Ready");
        assert(sc?.status === "True", `SecretStore vault Ready=${sc?.status} (${sc?.message})`);
        await waitSynced({}, 30000);
        // Audit on (the default): OpenBao takes it from its HCL (it refuses API audit devices) and logs requests.
        const audit = await bao(dir, "GET", "sys/audit", undefined, token);
        const devices = Object.keys(audit.json.data ?? {});
        assert(audit.status === 200 && devices.length > 0, `sys/audit: HTTP ${audit.status}, devices ${JSON.stringify(devices)}`);
        const auditLog = path.join(paths(dir).bao, "audit.log");
        const entries = fs.existsSync(auditLog) ? fs.readFileSync(auditLog, "utf8").split("\n").filter((l) => l.includes('"type":"response"')) : [];
        assert(entries.length > 0, `no audit entries in ${auditLog}`);
        assert(!fs.readFileSync(auditLog, "utf8").includes(token), "the audit log holds the admin token in plaintext (it must be HMAC'd)");
        ctx.auditEntries = entries.length;
        let adminNote = "--manual: root token (no admin identity)";
        if (!MANUAL) {
            // No standing root token: the one from init was revoked (audit: revoke-self with the root
            // policy) and no root-policy token is alive but the one this test generates now.
            const self = (await bao(dir, "GET", "auth/token/lookup-self", undefined, token)).json.data;
            eq([self.policies, self.orphan, self.period], [["pulumi-admin"], true, 768 * 3600], "admin token policies/orphan/period");
            const lines = fs.readFileSync(auditLog, "utf8").split("\n").filter((l) => l.includes('"type":"request"')).map((l) => JSON.parse(l));
            assert(lines.some((e) => e.request?.path === "auth/token/revoke-self" && (e.auth?.policies ?? []).includes("root")), "no revoke-self by a root token in the audit log");
            const root = await rootToken();
            const own = (await bao(dir, "GET", "auth/token/lookup-self", undefined, root)).json.data.accessor;
            eq(await liveRootTokens(root), [own], "live root-policy tokens (only the test's own)");
            // Outside its scope: 403.
            const denied = [["POST", `${KV}/data/undeclared/x`, { data: { v: "x" } }], ["POST", "sys/seal", {}], ["PUT", "sys/policies/acl/pulumi-admin", { policy: "" }], ["POST", "auth/token/create", {}], ["GET", "sys/storage/raft/configuration"]];
            for (const [m, p, b] of denied) eq((await bao(dir, m, p, b, token)).status, 403, `admin ${m} ${p}`);
            adminNote = `admin token: pulumi-admin only, orphan, period 768h; init's root token revoked, no live root token; 403 on ${denied.map((d) => d[1]).join(", ")}`;
        }
        return [adminNote, `audit devices ${devices.join(",")}: ${entries.length} responses logged, tokens HMAC'd`, `${MANUAL ? "manual wiring until synced" : "pulumi up"} ${(r.ms / 1000).toFixed(1)}s`, `policy ${ctx.policyName}: ${blocks.length} read-only paths`, `seal-status: initialized, unsealed, ${seal.json.t}/${seal.json.n}`];
    });

    await check(3, "least privilege: ESO's role reads the declared paths, 403 elsewhere", async () => {
        assert(ctx.upDone, "depends on check 2");
        const token = await rootToken();
        const w = await bao(dir, "POST", `${KV}/data/undeclared/extra`, { data: { value: randomBytes(9).toString("hex") } }, token);
        assert(w.status === 200, `root write ${KV}/undeclared/extra: HTTP ${w.status}`);
        const jwt = await kube().token(APP_NS, READER_SA, { audiences: ["vault"], expirationSeconds: 600 });
        const login = await bao(dir, "POST", "auth/kubernetes/login", { role: ROLE, jwt });
        assert(login.status === 200, `login as ${APP_NS}/${READER_SA}: HTTP ${login.status} ${JSON.stringify(login.json.errors ?? "")}`);
        const t = login.json.auth.client_token;
        eq(login.json.auth.policies.filter((p) => p !== "default"), [ctx.policyName], "policies of the login token");
        eq(login.json.auth.lease_duration, 900, "login token TTL");
        for (const p of [...DECLARED.map((d) => d.path), REGISTRY.path]) {
            const r = await kvRead(p, t);
            assert(r.status === 200, `reader GET ${KV}/data/${p}: HTTP ${r.status}`);
            const m = await bao(dir, "GET", `${KV}/metadata/${p}`, undefined, t);
            assert(m.status === 200, `reader GET ${KV}/metadata/${p}: HTTP ${m.status}`);
        }
        const denied = [
            ["GET", `${KV}/data/undeclared/extra`],
            ["POST", `${KV}/data/path_to_secret`, { data: { password: "x" } }],
            ["LIST", `${KV}/metadata`],
            ["GET", "sys/mounts"],
        ];
        for (const [m, p, b] of denied) {
            const r = await bao(dir, m, p, b, t);
            assert(r.status === 403, `reader ${m} ${p}: expected 403, got ${r.status}`);
        }
        // The role is bound to the SA and the audience: other identities can't log in.
        const wrongAud = await kube().token(APP_NS, READER_SA, { expirationSeconds: 600 });
        const r1 = await bao(dir, "POST", "auth/kubernetes/login", { role: ROLE, jwt: wrongAud });
        assert(r1.status >= 400, `login with a token of the wrong audience: HTTP ${r1.status}`);
        const other = await kube().token(APP_NS, "default", { audiences: ["vault"], expirationSeconds: 600 });
        const r2 = await bao(dir, "POST", "auth/kubernetes/login", { role: ROLE, jwt: other });
        assert(r2.status >= 400, `login as ${APP_NS}/default: HTTP ${r2.status}`);
        return `reader: 200 on ${2 * (DECLARED.length + 1)} declared data/metadata paths; 403 on ${denied.map((d) => `${d[0]} ${d[1]}`).join(", ")}; wrong audience -> ${r1.status}, other SA -> ${r2.status}`;
    });

    await check(4, "second pulumi up reports no changes; preview --expect-no-changes passes", async () => {
        needsPulumi("a no-op up");
        assert(ctx.upDone, "depends on check 2");
        const up = await POk(["up", "--yes", "--skip-preview", "--expect-no-changes", ...cfgArgs(dir)]);
        ctx.timings.noopUp = up.ms;
        const pv = await POk(["preview", "--expect-no-changes", ...cfgArgs(dir)]);
        ctx.timings.noopPreview = pv.ms;
        const summary = (up.stdout.match(/Resources:[\s\S]*?(?:\n\n|$)/) ?? [""])[0].trim().replace(/\s+/g, " ");
        return `up ${(up.ms / 1000).toFixed(1)}s (${summary}); preview ${(pv.ms / 1000).toFixed(1)}s`;
    });

    await check(5, `a value changed in OpenBao reaches the Kubernetes Secret within refreshInterval (${REFRESH_SECONDS}s)`, async () => {
        assert(ctx.upDone, "depends on check 2");
        const d = DECLARED[0];
        const original = await kvData(d.path);
        const next = randomBytes(16).toString("hex");
        const t0 = Date.now();
        const w = await bao(dir, "POST", `${KV}/data/${d.path}`, { data: { ...original, password: next } }, await adminToken());
        assert(w.status === 200, `admin write: HTTP ${w.status}`);
        await waitFor("the Secret to follow", async () => decodeData((await getObj(secretPath(d.name))).json).password === next, {
            timeoutMs: (REFRESH_SECONDS + 20) * 1000,
            intervalMs: 100,
        });
        const delay = Date.now() - t0;
        ctx.timings.propagation = delay;
        // Put the seeded value back so state and OpenBao agree again (and measure once more).
        const t1 = Date.now();
        await bao(dir, "POST", `${KV}/data/${d.path}`, { data: original }, await adminToken());
        await waitFor("the Secret to follow back", async () => decodeData((await getObj(secretPath(d.name))).json).password === original.password, {
            timeoutMs: (REFRESH_SECONDS + 20) * 1000,
            intervalMs: 100,
        });
        const delay2 = Date.now() - t1;
        assert(delay <= (REFRESH_SECONDS + 3) * 1000 && delay2 <= (REFRESH_SECONDS + 3) * 1000, `propagation took ${delay} ms / ${delay2} ms (> refreshInterval ${REFRESH_SECONDS}s + 3s reconcile slack)`);
        return `propagation delay ${(delay / 1000).toFixed(2)}s, then ${(delay2 / 1000).toFixed(2)}s back`;
    });

    await check(6, "OpenBao restarted (sealed): preview and up are exactly the unseal step (the preview says sealed), secrets sync again, data kept", async () => {
        assert(ctx.upDone, "depends on check 2");
        const before = await kvData("undeclared/extra");
        await restartBao(dir);
        const seal = await bao(dir, "GET", "sys/seal-status");
        assert(seal.json.initialized === true && seal.json.sealed === true, `after restart: initialized=${seal.json.initialized} sealed=${seal.json.sealed}`);
        let changes = [];
        let up;
        const tUp = Date.now();
        if (MANUAL) {
            for (const key of ctx.unsealKeys.slice(0, 2)) await bao(dir, "POST", "sys/unseal", { key });
            await waitFor("OpenBao active", async () => (await bao(dir, "GET", "sys/health")).status === 200, { timeoutMs: 30000, intervalMs: 200 });
            up = { ms: Date.now() - tUp };
        } else {
            // Exactly the unseal step: the Vault provider's token and version are known (the init
            // resource's check carries them), so no Vault resource previews a change, and nothing asks
            // the sealed server anything but its seal status.
            const pv = await POk(["preview", "--json", ...cfgArgs(dir)]);
            changes = plannedSteps(pv.stdout);
            sameSteps(changes, RESEAL_STEPS, "preview of a sealed OpenBao");
            assert(/VaultInit: sealed: /.test(pv.stdout), "the preview does not say that OpenBao is sealed");
            up = await POk(["up", "--yes", "--skip-preview", "--json", ...cfgArgs(dir)]);
            sameSteps(appliedSteps(up.stdout), RESEAL_STEPS, "the up after the reseal");
        }
        const seal2 = await bao(dir, "GET", "sys/seal-status");
        assert(seal2.json.sealed === false, "still sealed after pulumi up");
        const after = await kvData("undeclared/extra");
        eq(after.value === before.value, true, "undeclared/extra unchanged across the restart");
        await waitSynced({ after: tUp }, 60000);
        if (MANUAL) return `--manual: unsealed by hand in ${(up.ms / 1000).toFixed(1)}s (preview/up skipped); synced again, data kept`;
        const noop = await P(["preview", "--expect-no-changes", ...cfgArgs(dir)]);
        return [`preview steps = up steps: ${changes.join(", ")}`, `up ${(up.ms / 1000).toFixed(1)}s; preview afterwards ${noop.code === 0 ? "no changes" : "HAS CHANGES"}`];
    });

    await check(7, "bad config fails fast with the validation message; state untouched", async () => {
        // Decrypted (--show-secrets): every checkpoint write re-encrypts secrets with fresh nonces, so
        // ciphertext always differs; what the state means must not. Kept in memory only.
        const exportMeaning = async () => (await POk(["stack", "export", "--show-secrets", "--stack", STACK])).stdout;
        const before = await exportMeaning();
        const cases = [
            { key: "vault-eso-platform:vaultSecretThreshold", value: "5", expect: /vaultSecretThreshold: threshold 5 is greater than vaultSecretShares 3/ },
            { key: "vault-eso-platform:appNamespace", value: "Bad_Namespace", expect: /appNamespace:.*Bad_Namespace/ },
            { key: "vault-eso-platform:esoTokenTtl", value: "1 hour", expect: /esoTokenTtl: "1 hour" is not a duration/ },
            { key: "vault-eso-platform:refreshInterval", value: "1s", expect: /refreshInterval:/ },
            // A misspelled key is an error, not silently ignored (HA would look on while it is off).
            { key: "vault-eso-platform:vaultHA", value: "true", expect: /vaultHA: .*did you mean vaultHa\?/ },
        ];
        const notes = [];
        for (const c of cases) {
            const bad = path.join(dir, "Pulumi.bad.yaml");
            fs.copyFileSync(paths(dir).stackConfig, bad);
            await POk(["config", "set", "--stack", STACK, "--config-file", bad, c.key, "--", c.value]);
            const r = await P(["preview", "--stack", STACK, "--config-file", bad]);
            const out = r.stdout + r.stderr;
            assert(r.code !== 0, `preview with ${c.key}=${c.value} succeeded`);
            assert(/Invalid stack configuration/.test(out) && c.expect.test(out), `preview with ${c.key}=${c.value}: message not found:\n${out.slice(-1500)}`);
            notes.push(`${c.key.split(":")[1]}=${JSON.stringify(c.value)} -> exit ${r.code} in ${(r.ms / 1000).toFixed(1)}s: ${(out.match(/- vault-eso-platform:[^\n]*/) ?? [""])[0].trim()}`);
        }
        // And `up` with a bad value too: refused before any step.
        const bad = path.join(dir, "Pulumi.bad.yaml");
        fs.copyFileSync(paths(dir).stackConfig, bad);
        await POk(["config", "set", "--stack", STACK, "--config-file", bad, "vault-eso-platform:vaultSecretThreshold", "5"]);
        const upr = await P(["up", "--yes", "--skip-preview", "--stack", STACK, "--config-file", bad]);
        assert(upr.code !== 0 && /Invalid stack configuration/.test(upr.stdout + upr.stderr), "pulumi up with a bad threshold did not fail with the validation message");
        fs.rmSync(bad, { force: true });
        const after = await exportMeaning();
        // manifest changes on every write. On a never-deployed stack (E2E_ONLY=7) a failed `up`
        // registers the root Stack component before the program throws: ignore it only in that case.
        const wasEmpty = (JSON.parse(before).deployment.resources ?? []).length === 0;
        const meaning = (s) => {
            const d = JSON.parse(s).deployment;
            const resources = (d.resources ?? []).filter((r) => !(wasEmpty && r.type === "pulumi:pulumi:Stack"));
            return { rest: Object.fromEntries(Object.entries(d).filter(([k]) => k !== "manifest" && k !== "resources")), resources: new Map(resources.map((r) => [r.urn, r])) };
        };
        const b = meaning(before);
        const a = meaning(after);
        const diffs = [];
        for (const k of new Set([...Object.keys(a.rest), ...Object.keys(b.rest)])) {
            if (canonical(a.rest[k]) !== canonical(b.rest[k])) diffs.push(`deployment.${k}`);
        }
        for (const urn of new Set([...a.resources.keys(), ...b.resources.keys()])) {
            const x = b.resources.get(urn);
            const y = a.resources.get(urn);
            if (!x || !y) diffs.push(`${x ? "removed" : "added"} ${urn}`);
            else for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) if (canonical(x[k]) !== canonical(y[k])) diffs.push(`${urn}: ${k}`);
        }
        // Names of what differs only: the decrypted exports hold secrets and are never written out.
        assert(diffs.length === 0, `the state changed after the failed previews/up: ${diffs.slice(0, 10).join("; ")}`);
        notes.push(`up with threshold 5 -> exit ${upr.code}; decrypted state identical (${a.resources.size} resources, inputs/outputs compared)`);
        return notes;
    });

    await check(8, "pulumi stack export holds no plaintext unseal key, admin token, reviewer JWT or seeded value", async () => {
        needsPulumi("a stack export with secrets");
        assert(ctx.upDone, "depends on check 2");
        const exp = (await POk(["stack", "export", "--stack", STACK])).stdout;
        const keys = await stackOutputSecret("vaultUnsealKeys");
        const reviewer = await getObj("/api/v1/namespaces/vault/secrets/vault-token-reviewer");
        assert(reviewer.status === 200, `reviewer Secret: HTTP ${reviewer.status}`);
        const jwt = decodeData(reviewer.json).token;
        const secrets = [["admin token", await adminToken()], ["reviewer JWT", jwt], ["registry password", ctx.registryPassword]];
        keys.forEach((k, i) => secrets.push([`unseal key ${i + 1}`, k]));
        for (const d of DECLARED) {
            const v = await kvData(d.path);
            for (const k of d.keys) secrets.push([`seeded ${d.path}.${k}`, v[k]]);
        }
        assert(keys.length === 3, `expected 3 unseal keys, got ${keys.length}`);
        secretsAbsent(exp, secrets, "pulumi stack export");
        secretsAbsent(fs.readFileSync(paths(dir).stackConfig, "utf8"), [["registry password", ctx.registryPassword]], "the stack config file");
        const secretCount = (exp.match(/"4dabf18193072939515e22adb298388d"/g) ?? []).length;
        return `${secrets.length} secret values compared (plaintext and base64): none in the export (${exp.length} bytes, ${secretCount} secret-marked values)`;
    });

    await check(9, "tenants: each store syncs only its own secrets; a request for another tenant's path gets Vault's 403; removing a tenant keeps its KV data and the others", async () => {
        needsPulumi("tenants added and removed through config");
        assert(ctx.upDone, "depends on check 2");
        const TENANTS = [
            { name: "team-a", namespace: "team-a", kvPrefix: "team-a", secrets: [{ name: "db", path: "team-a/db", keys: ["password"] }] },
            { name: "team-b", namespace: "team-b", kvPrefix: "team-b", secrets: [{ name: "api", path: "team-b/api", keys: ["token"] }] },
        ];
        const setTenants = (list) => POk(["config", "set", ...cfgArgs(dir), "vault-eso-platform:tenants", "--", JSON.stringify(list)]);
        const tenantSecret = async (ns, name) => decodeData((await getObj(`/api/v1/namespaces/${ns}/secrets/${name}`)).json ?? {});
        await setTenants(TENANTS);
        const up1 = await POk(["up", "--yes", "--skip-preview", ...cfgArgs(dir)]);
        for (const t of TENANTS) {
            const s = t.secrets[0];
            const kv = await kvData(s.path);
            await waitFor(`${t.name}'s Secret ${s.name} synced`, async () => (await tenantSecret(t.namespace, s.name))[s.keys[0]] === kv[s.keys[0]], { timeoutMs: 60000 });
        }
        // Tenant A's reader logs in with A's role and is refused B's path by Vault itself.
        const jwtA = await kube().token("team-a", READER_SA, { audiences: ["vault"], expirationSeconds: 600 });
        const loginA = await bao(dir, "POST", "auth/kubernetes/login", { role: `${ROLE}-team-a`, jwt: jwtA });
        assert(loginA.status === 200, `team-a reader login: HTTP ${loginA.status}`);
        const tA = loginA.json.auth.client_token;
        eq((await bao(dir, "GET", `${KV}/data/team-a/db`, undefined, tA)).status, 200, "team-a reads its own path");
        eq((await bao(dir, "GET", `${KV}/data/team-b/api`, undefined, tA)).status, 403, "team-a reads team-b's path");
        eq((await bao(dir, "GET", `${KV}/data/path_to_secret`, undefined, tA)).status, 403, "team-a reads the default tenant's path");
        const jwtOther = await kube().token("team-a", READER_SA, { audiences: ["vault"], expirationSeconds: 600 });
        const cross = await bao(dir, "POST", "auth/kubernetes/login", { role: `${ROLE}-team-b`, jwt: jwtOther });
        assert(cross.status >= 400, `team-a's reader logging in with team-b's role: HTTP ${cross.status}`);
        // An ExternalSecret in A's namespace asking for B's path: ESO surfaces Vault's 403, nothing of B's lands in A.
        const rogue = {
            apiVersion: "external-secrets.io/v1", kind: "ExternalSecret", metadata: { name: "rogue", namespace: "team-a" },
            spec: { refreshInterval: "10s", secretStoreRef: { name: "vault", kind: "SecretStore" }, target: { name: "rogue" }, data: [{ secretKey: "token", remoteRef: { key: "team-b/api", property: "token" } }] },
        };
        const created = await kube().request("POST", "/apis/external-secrets.io/v1/namespaces/team-a/externalsecrets", rogue);
        assert(created.status === 201, `create the rogue ExternalSecret: HTTP ${created.status}`);
        let why = "";
        await waitFor("the rogue ExternalSecret to fail", async () => {
            const c = condition((await getObj("/apis/external-secrets.io/v1/namespaces/team-a/externalsecrets/rogue")).json, "Ready");
            why = c?.message ?? "";
            return c?.status === "False";
        }, { timeoutMs: 60000 });
        // ESO's condition says "could not get secret data from provider"; Vault's own answer is in
        // the ExternalSecret's events, which `kubectl describe externalsecret` shows.
        let refusal = "";
        await waitFor("Vault's refusal in the rogue ExternalSecret's events", async () => {
            const ev = await getObj("/api/v1/namespaces/team-a/events?fieldSelector=involvedObject.name%3Drogue");
            refusal = (ev.json?.items ?? []).map((e) => e.message).find((m) => /403|permission denied/i.test(m ?? "")) ?? "";
            return refusal !== "";
        }, { timeoutMs: 30000 });
        why = `${why}; event: ${refusal.replace(/\s+/g, " ").slice(0, 160)}`;
        eq((await getObj("/api/v1/namespaces/team-a/secrets/rogue")).status, 404, "Secret rogue in team-a");
        await kube().request("DELETE", "/apis/external-secrets.io/v1/namespaces/team-a/externalsecrets/rogue");
        // Remove team-b: its store, role and policy go; its KV entry stays; team-a and the default tenant are untouched.
        const bData = await kvData("team-b/api");
        const aRoleBefore = (await bao(dir, "GET", `auth/kubernetes/role/${ROLE}-team-a`, undefined, await rootToken())).json.data;
        await setTenants([TENANTS[0]]);
        // Preview = up = team-b's deletes, plus the admin policy losing team-b's kvPrefix (it seeded there).
        const removal = await previewThenUp({ dir, POk }, [...tenantSteps("delete", "team-b", [{ name: "api", path: "team-b/api", keys: ["token"] }]), "update pulumi-nodejs:dynamic/vault:VaultInit platform-init"], "team-b removed");
        const changes = removal.planned;
        const up2 = removal.up;
        eq((await bao(dir, "GET", `auth/kubernetes/role/${ROLE}-team-b`, undefined, await rootToken())).status, 404, "team-b's role after removal");
        eq((await bao(dir, "GET", `sys/policies/acl/${ROLE}-team-b`, undefined, await rootToken())).status, 404, "team-b's policy after removal");
        eq(JSON.stringify(await kvData("team-b/api")), JSON.stringify(bData), "team-b's KV entry after removal (retained)");
        await waitFor("namespace team-b gone", async () => (await getObj("/api/v1/namespaces/team-b")).status === 404, { timeoutMs: 60000 });
        eq((await bao(dir, "GET", `auth/kubernetes/role/${ROLE}-team-a`, undefined, await rootToken())).json.data, aRoleBefore, "team-a's role after team-b's removal");
        await waitSynced({}, 30000);
        eq((await tenantSecret("team-a", "db")).password, (await kvData("team-a/db")).password, "team-a's Secret after team-b's removal");
        return [
            `up with 2 tenants ${(up1.ms / 1000).toFixed(1)}s: each synced its own secret`,
            `team-a's reader: 200 on its path, 403 on team-b's and the default tenant's; team-b's role refuses it (HTTP ${cross.status})`,
            `rogue ExternalSecret in team-a for team-b/api: Ready=False (${why.slice(0, 120)}), no Secret`,
            `team-b removed (${changes.length} steps previewed = applied: team-b's deletes and the admin-policy update) in ${(up2.ms / 1000).toFixed(1)}s: role/policy/namespace gone, KV entry kept, team-a and default untouched`,
        ];
    });

    await check(10, "admin token revoked: preview and up are exactly the token steps (init resource, Vault provider); recovered through generate-root (audited), then no changes", async () => {
        needsPulumi("a recovery up");
        assert(ctx.upDone, "depends on check 2");
        const old = await adminToken();
        const root = await rootToken();
        const accessor = (await bao(dir, "GET", "auth/token/lookup-self", undefined, old)).json.data.accessor;
        eq((await bao(dir, "POST", "auth/token/revoke-accessor", { accessor }, root)).status, 204, "revoke the admin token");
        const auditLog = path.join(paths(dir).bao, "audit.log");
        const generated = () => fs.readFileSync(auditLog, "utf8").split("\n").filter((l) => l.includes('"type":"request"') && l.includes('"path":"sys/generate-root/update"')).length;
        const before = generated();
        // Exactly the token steps: the init resource (its check chose the new token's value, so the
        // preview knows it) and the Vault provider taking it. No other Vault resource.
        const pv = await POk(["preview", "--json", ...cfgArgs(dir)]);
        const changes = plannedSteps(pv.stdout);
        sameSteps(changes, TOKEN_STEPS, "preview after the admin token was revoked");
        const up = await POk(["up", "--yes", "--skip-preview", "--json", ...cfgArgs(dir)]);
        ctx.adminToken = undefined;
        const updated = appliedSteps(up.stdout);
        sameSteps(updated, TOKEN_STEPS, "the recovery up");
        const next = await adminToken();
        assert(next !== old, "the admin token was not replaced");
        eq((await bao(dir, "GET", "auth/token/lookup-self", undefined, next)).json.data.policies, ["pulumi-admin"], "new admin token policies");
        assert(generated() === before + 2, `audit log: ${generated() - before} generate-root updates (expected 2, the key threshold)`);
        const own = (await bao(dir, "GET", "auth/token/lookup-self", undefined, root)).json.data.accessor;
        eq(await liveRootTokens(root), [own], "live root-policy tokens after recovery (only the test's own)");
        const noop = await POk(["up", "--yes", "--skip-preview", "--expect-no-changes", ...cfgArgs(dir)]);
        await waitSynced({}, 30000);
        return [`preview = up: ${changes.join(", ")}`, `up ${(up.ms / 1000).toFixed(1)}s: ${updated.join(", ")}; generate-root audited (${generated() - before} key submissions); next up no changes (${(noop.ms / 1000).toFixed(1)}s)`];
    });

    // Previews tell the truth for the everyday tenant changes (test/e2e/checks/previews.mjs), and the
    // tenant Secret guard holds (checks/admission.mjs), on the stack check 9 left (tenant team-a).
    const TEAM_A = [{ name: "team-a", namespace: "team-a", kvPrefix: "team-a", secrets: [{ name: "db", path: "team-a/db", keys: ["password"] }] }];
    const hp = { dir, P, POk, needsPulumi, waitSynced: () => waitSynced({}, 60000) };
    await tenantPreviewCheck(runner, hp, 17, TEAM_A);

    await check(18, "tenantSecretGuard on the API server: ESO's syncs pass; a tenant user's and the admin's hand-made Secrets are denied with the guard's message; system types pass", async () => {
        needsPulumi("the guard the program declares");
        assert(ctx.upDone, "depends on check 2");
        const root = await rootToken();
        const touch = async () => {
            const value = randomBytes(12).toString("base64url");
            const w = await bao(dir, "POST", `${KV}/data/team-a/db`, { data: { password: value } }, root);
            assert(w.status === 200, `write ${KV}/data/team-a/db: HTTP ${w.status}`);
            await waitFor("ESO wrote the new value into team-a/db", async () => decodeData((await getObj("/api/v1/namespaces/team-a/secrets/db")).json ?? {}).password === value, { timeoutMs: 60000 });
        };
        return secretGuardDrill(kube(), { namespace: "team-a", synced: "db", touch });
    });

    // Hub side of hub-and-spokes: spoke tokens scoped on the real OpenBao (checks/spokes.mjs).
    await spokeCheck(runner, { dir, P, POk, needsPulumi, bao: (m, p, b, t) => bao(dir, m, p, b, t), rootToken, stackOutput: stackOutputSecret, kube }, 20);

    await check(11, "pulumi destroy removes what the program created; OpenBao data intact", async () => {
        needsPulumi("a destroy");
        assert(ctx.upDone, "depends on check 2");
        const token = await adminToken();
        const keep = {};
        for (const p of [...DECLARED.map((d) => d.path), REGISTRY.path, "undeclared/extra"]) keep[p] = await kvData(p);
        // --run-program: the program (and in chart mode its tunnel to Vault) runs while the Vault resources are deleted.
        const r = await POk(["destroy", "--yes", "--skip-preview", "--run-program", ...cfgArgs(dir)]);
        const exp = JSON.parse((await POk(["stack", "export", "--stack", STACK])).stdout);
        eq((exp.deployment.resources ?? []).length, 0, "resources left in state");
        for (const ns of [APP_NS, ESO_NS, "vault", ...(runner.only && !runner.only.has(9) ? [] : ["team-a"])]) {
            await waitFor(`namespace ${ns} gone`, async () => (await getObj(`/api/v1/namespaces/${ns}`)).status === 404, { timeoutMs: 60000 });
        }
        for (const p of [
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/externalsecrets.external-secrets.io",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/secretstores.external-secrets.io",
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/vault-vault-tokenreview",
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/external-secrets-controller",
        ]) {
            await waitFor(`${p} gone`, async () => (await getObj(p)).status === 404, { timeoutMs: 60000 });
        }
        const auths = await bao(dir, "GET", "sys/auth", undefined, token);
        // The admin token outlives the stack (VaultInit is retained on delete): valid until its period ends.
        assert(auths.status === 200, `sys/auth with the admin token after destroy: HTTP ${auths.status}`);
        assert(!("kubernetes/" in (auths.json.data ?? auths.json)), "kubernetes auth still mounted");
        const pol = await bao(dir, "GET", `sys/policies/acl/${ctx.policyName}`, undefined, token);
        eq(pol.status, 404, `policy ${ctx.policyName} after destroy`);
        const audit = await bao(dir, "GET", "sys/audit", undefined, token);
        // OpenBao's device comes from its server configuration, not from the program: it stays.
        eq(Object.keys(audit.json.data ?? {}), ["local/"], "audit devices after destroy (only the server's declarative one)");
        const seal = await bao(dir, "GET", "sys/seal-status");
        assert(seal.json.sealed === false, "destroy sealed OpenBao");
        for (const [p, v] of Object.entries(keep)) {
            const now = await kvData(p);
            assert(JSON.stringify(now) === JSON.stringify(v), `${KV}/${p} changed by destroy`);
        }
        return `destroy ${(r.ms / 1000).toFixed(1)}s; 0 resources in state; namespaces, CRDs, RBAC, auth mount, policy gone (declarative audit kept); ${Object.keys(keep).length} KV entries intact, unsealed`;
    });

    // A stack deployed by the program before the Tenant component (fresh OpenBao), previewed with this one.
    await upgradeCheck(runner, { dir, P, POk, needsPulumi, generateRoot, stackOutput: stackOutputSecret, bao: (m, p, b, t) => bao(dir, m, p, b, t) }, 19);

    // Day 2 on a fresh OpenBao each: a killed `pulumi up` at each point of the init create, then the
    // migration of a Shamir stack to a transit seal (test/e2e/checks/crash.mjs).
    const h = {
        dir,
        env: ctx.env,
        P,
        POk,
        needsPulumi,
        bao: (m, p, b, t) => bao(dir, m, p, b, t),
        generateRoot,
        stackOutput: stackOutputSecret,
        // A new Vault each drill: no cached token of the previous one.
        waitSynced: () => {
            ctx.adminToken = undefined;
            ctx.rootToken = undefined;
            return waitSynced({}, 120000);
        },
        kvData: (p) => {
            ctx.adminToken = undefined;
            ctx.rootToken = undefined;
            return kvData(p);
        },
    };
    for (const [i, point] of CRASH_POINTS.entries()) await crashDrill(runner, h, 12 + i, point);
    await migrationDrill(runner, h, 16);
}

try {
    await main();
} catch (e) {
    runner.fail(-1, "runner", { message: e.stack });
} finally {
    if (process.env.KEEP === "1") {
        log(`KEEP=1: left everything running in ${dir} (stop with: node scripts/local/up.mjs --down --dir ${dir})`);
    } else {
        await stopAll(dir);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
process.exit(runner.summary(Object.keys(ctx.timings).length ? [`timings (ms): ${JSON.stringify(ctx.timings)}`] : []));

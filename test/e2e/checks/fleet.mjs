// Fleet tier checks: one OpenBao hub (the local stack) and spokes on their own loopback control
// planes, driven by `npm run fleet` (scripts/fleet.mjs) exactly as a user runs it. Assertions are on
// what the servers say (ExternalSecrets' status, Secret values against the hub's KV, Vault's 403s)
// and on the runner's report (--json: per stack, the steps that change something).
// `f`: { dir, fleet(op), spokes, bao(method, path, body, token), kube(name), tokens(), hubOutput(name), restartHub() }.
import * as fs from "node:fs";
import yaml from "js-yaml";
import { waitFor } from "../../../scripts/local/lib.mjs";
import { assert, condition, decodeData, eq, secretsAbsent } from "../lib/assertions.mjs";

/** What each local spoke declares (scripts/local/lib/fleet.mjs spokeConfig): ExternalSecret -> KV path. */
export const spokeSecrets = (name) => [
    { ns: "demo-external-secrets", es: "app-password", path: `spokes/${name}/demo-external-secrets/app`, keys: ["password"] },
    { ns: "team-a", es: "team-a-db", path: `spokes/${name}/team-a/db`, keys: ["username", "password"] },
];
const INIT_UPDATE = "update pulumi-nodejs:dynamic/vault:VaultInit platform-init";
const changed = (row) => ["create", "update", "delete", "replace"].reduce((n, k) => n + (row.changes?.[k] ?? 0), 0);
const rowOf = (report, stack) => {
    const r = report.stacks.find((s) => s.stack === stack);
    assert(r, `the fleet report has no row for ${stack}`);
    return r;
};
const summaryOf = (report) => report.stacks.map((r) => `${r.stack} ${r.op} ${r.result} +${r.changes.create ?? 0}~${r.changes.update ?? 0}-${r.changes.delete ?? 0}`).join("; ");

/** Every ExternalSecret of a spoke Ready, its Secret equal to the hub's KV entry (read with the spoke's token). */
async function spokeSynced(f, name, token) {
    const kube = f.kube(name);
    for (const s of spokeSecrets(name)) {
        await waitFor(`${name}: ExternalSecret ${s.ns}/${s.es} Ready with the hub's value`, async () => {
            const es = (await kube.get(`/apis/external-secrets.io/v1/namespaces/${s.ns}/externalsecrets/${s.es}`)).json;
            if (condition(es, "Ready")?.status !== "True") return false;
            const secret = (await kube.get(`/api/v1/namespaces/${s.ns}/secrets/${s.es}`)).json;
            const kv = (await f.bao("GET", `kv/data/${s.path}`, undefined, token)).json?.data?.data;
            return kv && s.keys.every((k) => kv[k] && decodeData(secret)[k] === kv[k]);
        }, { timeoutMs: 120000, intervalMs: 1000 });
    }
}

export const fleetUp = (r, f, n) =>
    r.check(n, `npm run fleet -- up: the hub first, then ${f.spokes.length} spokes in parallel; every stack ok in the summary; every spoke's ExternalSecrets synced from the hub's Vault`, async () => {
        const { report, stdout } = await f.fleet("up");
        eq(report.stacks.map((s) => [s.stack, s.op, s.result]), [["local", "up", "ok"], ...f.spokes.map((s) => [f.stackOf(s), "up", "ok"])], "stacks, operations, results");
        assert(/fleet up: \d+ of \d+ stacks ok\nstack\s+role\s+operation\s+create\s+update\s+delete/.test(stdout), "the runner printed no summary table");
        const hubStart = report.stacks[0];
        // Live progress: each spoke's steps printed with its stack's name while running.
        for (const s of f.spokes) assert(new RegExp(`\\d\\d:\\d\\d:\\d\\d  ${f.stackOf(s)}\\s+created vault:`).test(stdout), `no live progress line for ${f.stackOf(s)}`);
        const tokens = await f.tokens();
        for (const s of f.spokes) await spokeSynced(f, s, tokens[s]);
        secretsAbsent(stdout, Object.entries(tokens).map(([k, v]) => [`spoke ${k}'s token`, v]), "the fleet runner's output");
        f.timings.fleetUp = report.ms;
        return [summaryOf(report), `hub ${(hubStart.ms / 1000).toFixed(1)}s, fleet ${(report.ms / 1000).toFixed(1)}s; ${f.spokes.length * 2} ExternalSecrets synced; no spoke token in the output`];
    });

export const fleetNoop = (r, f, n) =>
    r.check(n, "a second fleet preview and up change nothing on any stack", async () => {
        for (const op of ["preview", "up"]) {
            const { report } = await f.fleet(op);
            for (const row of report.stacks) {
                eq([row.result, changed(row), row.steps], ["ok", 0, []], `${op} of ${row.stack}: result, changes, steps`);
            }
            f.timings[`fleetNoop${op}`] = report.ms;
        }
        return `no-op preview ${(f.timings.fleetNooppreview / 1000).toFixed(1)}s, up ${(f.timings.fleetNoopup / 1000).toFixed(1)}s`;
    });

export const fleetIsolation = (r, f, n) =>
    r.check(n, "isolation on the hub: spoke A's token gets 403 on spoke B's mount, roles and KV, and on every way to grant itself more (a policy, a mount, a role handing out another policy); A's default-tenant reader reads only its namespace's folder and is refused at B's mount", async () => {
        const tokens = await f.tokens();
        const [A, B] = f.spokes;
        const own = [
            ["GET", `auth/spokes/${A}/role/${A}-external-secrets`],
            ["GET", `kv/data/spokes/${A}/demo-external-secrets/app`],
        ];
        for (const [m, p] of own) eq([m, p, (await f.bao(m, p, undefined, tokens[A])).status], [m, p, 200], `${A}'s token on its own`);
        const grab = { bound_service_account_names: ["x"], bound_service_account_namespaces: ["x"] };
        const foreign = [
            ["GET", `auth/spokes/${B}/config`],
            ["POST", `auth/spokes/${B}/config`, { kubernetes_host: "https://attacker.invalid" }],
            ["GET", `auth/spokes/${B}/role/${B}-external-secrets`],
            ["POST", `auth/spokes/${B}/role/${B}-external-secrets`, { ...grab, token_policies: [`pulumi-spoke-${A}-reader`] }],
            ["DELETE", `sys/auth/spokes/${B}`],
            ["GET", `kv/data/spokes/${B}/demo-external-secrets/app`],
            ["POST", `kv/data/spokes/${B}/demo-external-secrets/app`, { data: { password: "overwritten" } }],
            ["GET", "kv/data/path_to_secret"],
            // Granting itself more: policies (its own old names included), mounts, roles with another policy.
            ["PUT", `sys/policies/acl/${A}-x`, { policy: 'path "*" { capabilities = ["read"] }' }],
            ["PUT", `sys/policies/acl/pulumi-spoke-${A}`, { policy: 'path "*" { capabilities = ["sudo"] }' }],
            ["PUT", `sys/policies/acl/pulumi-spoke-${A}-reader`, { policy: 'path "*" { capabilities = ["read"] }' }],
            ["POST", `sys/auth/kubernetes-${A}`, { type: "approle" }],
            ["DELETE", `sys/auth/spokes/${A}`],
            ["POST", `auth/spokes/${A}/role/x`, { ...grab, token_policies: ["pulumi-admin"] }],
            ["POST", `auth/spokes/${A}/role/x`, { ...grab, token_policies: `pulumi-spoke-${A}-reader,pulumi-admin` }],
            ["POST", `auth/spokes/${A}/role/${A}-external-secrets`, { token_policies: [`pulumi-spoke-${A}-reader`], policies: ["pulumi-admin"] }],
        ];
        for (const [m, p, b] of foreign) eq([m, p, (await f.bao(m, p, b, tokens[A])).status], [m, p, 403], `${A}'s token on what is not its own`);
        // A's reader (the default tenant's, in A's cluster): a token at A's mount that reads its
        // namespace's folder only (not team-a's); refused at B's (B's API server did not issue it).
        const jwt = await f.kube(A).token("demo-external-secrets", "vault-secret-reader", { audiences: ["vault"], expirationSeconds: 600 });
        const home = await f.bao("POST", `auth/spokes/${A}/login`, { role: `${A}-external-secrets`, jwt });
        eq(home.status, 200, `${A}'s reader at spokes/${A}`);
        const read = async (p) => (await f.bao("GET", p, undefined, home.json.auth.client_token)).status;
        eq(await read(`kv/data/spokes/${A}/demo-external-secrets/app`), 200, `${A}'s reader on its own entry`);
        eq(await read(`kv/data/spokes/${A}/team-a/db`), 403, `${A}'s default-tenant reader on team-a's entry`);
        const away = await f.bao("POST", `auth/spokes/${B}/login`, { role: `${B}-external-secrets`, jwt });
        assert(away.status === 403, `${A}'s reader at spokes/${B}: HTTP ${away.status} (expected 403)`);
        return `${A}'s token: 200 on its own ${own.length}, 403 on ${foreign.length} (${B}'s, the hub's, and granting itself more); ${A}'s reader 200 on its folder, 403 on team-a's and at ${B}'s mount`;
    });

export const fleetRemoval = (r, f, n, gone) =>
    r.check(n, `a spoke removed from the fleet file (${gone}): its stack destroyed, its token revoked and its mount disabled by the hub (exactly its 6 deletes), nothing else changes`, async () => {
        const tokens = await f.tokens();
        const before = f.spokes;
        f.setSpokes(before.filter((s) => s !== gone));
        const { report } = await f.fleet("up");
        const removed = rowOf(report, f.stackOf(gone));
        eq([removed.role, removed.op, removed.result, removed.changes.create ?? 0, removed.changes.update ?? 0], ["removed spoke", "destroy", "ok", 0, 0], `${gone}: role, operation, result, creates, updates`);
        assert((removed.changes.delete ?? 0) > 0, `${gone}'s destroy deleted nothing`);
        const hub = rowOf(report, "local");
        eq(hub.steps.sort(), [
            `delete platform:fleet:SpokeAccess platform-spoke-${gone}`,
            `delete vault:index/authBackend:AuthBackend platform-spoke-${gone}-mount`,
            `delete vault:index/policy:Policy platform-spoke-${gone}-policy`,
            `delete vault:index/policy:Policy platform-spoke-${gone}-reader`,
            `delete vault:index/token:Token platform-spoke-${gone}-token`,
            `delete vault:tokenauth/authBackendRole:AuthBackendRole platform-spoke-${gone}-role`,
        ], "the hub's steps");
        for (const s of f.spokes) eq([changed(rowOf(report, f.stackOf(s))), rowOf(report, f.stackOf(s)).result], [0, "ok"], `${s}'s changes and result`);
        eq((await f.bao("GET", "auth/token/lookup-self", undefined, tokens[gone])).status, 403, `${gone}'s token after its removal`);
        const mounts = Object.keys((await f.bao("GET", "sys/auth", undefined, await f.adminToken())).json?.data ?? {});
        assert(!mounts.includes(`spokes/${gone}/`), `spokes/${gone} still mounted on the hub`);
        for (const s of f.spokes) assert(mounts.includes(`spokes/${s}/`), `spokes/${s} missing on the hub after ${gone} left`);
        const ns = await f.kube(gone).get("/api/v1/namespaces/team-a");
        assert(ns.status === 404 || ns.json?.status?.phase === "Terminating", `${gone}'s tenant namespace team-a still there (HTTP ${ns.status})`);
        const hubSpokes = yaml.load(fs.readFileSync(f.hubConfigFile, "utf8")).config["vault-eso-platform:spokes"].map((s) => s.name);
        eq(hubSpokes, f.spokes, "the hub's spokes config after the fleet up");
        for (const s of f.spokes) await spokeSynced(f, s, tokens[s]);
        return [summaryOf(report), `${gone}: stack destroyed (${removed.changes.delete} deletes), token 403, mount gone; the hub: its 6 deletes; ${f.spokes.join(", ")}: 0 changes, still synced`];
    });

export const fleetReseal = (r, f, n) =>
    r.check(n, "the hub resealed (OpenBao restarted): the fleet preview shows only the hub's unseal; the fleet up does exactly that; the spokes sync again", async () => {
        await f.restartHub();
        eq((await f.bao("GET", "sys/seal-status")).json?.sealed, true, "hub sealed after its restart");
        const plan = await f.fleet("preview");
        eq(rowOf(plan.report, "local").steps, [INIT_UPDATE], "the hub's preview");
        for (const s of f.spokes) eq([rowOf(plan.report, f.stackOf(s)).result, rowOf(plan.report, f.stackOf(s)).steps], ["ok", []], `${s}'s preview against the sealed hub`);
        const { report } = await f.fleet("up");
        eq(rowOf(report, "local").steps, [INIT_UPDATE], "the hub's up");
        for (const s of f.spokes) eq(rowOf(report, f.stackOf(s)).steps, [], `${s}'s up`);
        eq((await f.bao("GET", "sys/seal-status")).json?.sealed, false, "hub unsealed by the fleet up");
        const tokens = await f.tokens();
        for (const s of f.spokes) await spokeSynced(f, s, tokens[s]);
        return `preview: ${summaryOf(plan.report)}`;
    });

export const fleetFailure = (r, f, n, broken) =>
    r.check(n, `a failing spoke (${broken}: invalid config): npm run fleet exits 1, the summary says which and why, the other stacks still run and pass`, async () => {
        const file = f.configFileOf(broken);
        const saved = fs.readFileSync(file, "utf8");
        try {
            // A server setting on a spoke: its program refuses it before declaring anything.
            fs.writeFileSync(file, saved.replace(/^config:\n/m, 'config:\n  vault-eso-platform:vaultHa: "true"\n'));
            const { code, report, stdout } = await f.fleetCli("preview");
            eq(code, 1, "the runner's exit code");
            eq(report.stacks.map((s) => [s.stack, s.result]), [["local", "ok"], ...f.spokes.map((s) => [f.stackOf(s), s === broken ? "failed" : "ok"])], "stacks and results");
            const row = rowOf(report, f.stackOf(broken));
            assert(/vaultHa: a spoke runs no Vault server/.test(row.detail), `the failed row does not say why: ${row.detail}`);
            assert(new RegExp(`${f.stackOf(broken)}: failed: .*vaultHa`).test(stdout), "the summary does not list the failure with its reason");
            return `exit 1; ${summaryOf(report)}; ${f.stackOf(broken)}: ${row.detail.slice(0, 120)}`;
        } finally {
            fs.writeFileSync(file, saved);
        }
    });

export const fleetDestroy = (r, f, n) =>
    r.check(n, "npm run fleet -- destroy: the spokes first, then the hub; every stack empty", async () => {
        const { report } = await f.fleet("destroy");
        eq(report.stacks.map((s) => [s.stack, s.result]), [...f.spokes.map((s) => [f.stackOf(s), "ok"]), ["local", "ok"]], "stacks and results in order");
        const left = await f.resourceCounts();
        for (const stack of ["local", ...f.spokes.map(f.stackOf)]) eq(left[stack], 0, `resources left in ${stack} (pulumi stack ls)`);
        return [summaryOf(report), `resources left: ${JSON.stringify(left)}`];
    });

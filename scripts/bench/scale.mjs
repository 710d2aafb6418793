#!/usr/bin/env node
// `npm run bench -- --scale [--sizes 1,10,50] [--secrets 10] [--refresh 1h] [--runs 1]`: tenants at scale,
// engine tier. For each size N (tenants of S seeded secrets each, besides the default tenant), on a fresh loopback
// plane each time, the program (index.ts, stack "local") and the bare program (bench/bare: the same
// objects written flat, no components, no init provider, no waits) measure:
//   - first `pulumi up` start -> every ExternalSecret Ready (polled every 500 ms)
//   - a no-op `pulumi preview` (best of 2)
//   - one more tenant: its `pulumi preview`, and its `pulumi up` -> its ExternalSecrets Ready
// and the table prints ours/bare for each, plus "one more tenant at N vs at the first size", and the
// state each first up left (size, resources, components): docs/scale.md explains why they matter.
// --runs K measures each size K times (ours, then bare, K times over) and prints medians, the ratio of
// the medians and the spread of the per-run ratios (scripts/bench/stats.mjs).
// Both programs' previews run with PREVIEW_ENV (scripts/previewEnv.mjs: no per-step snapshot
// serialisation in a preview, which persists nothing), as every preview of the project does.
// Targets (issue 18): every ratio <= 1.3x; adding a tenant at 50 <= 2x adding it at 1.
// --shards [--shard-size 5]: the program as tenant shards (docs/tenant-shards.md): the local stack as
// the hub (Vault, ESO, the default tenant) plus ceil(N / size) shard stacks in its cluster holding
// the N tenants; the first up is the hub's and every shard's in turn; the no-op preview and one more
// tenant are the last shard's (the one stack a pull request adding a tenant changes: fleet check 9
// shows the hub and the other shards preview 0 steps). The bare program stays one stack.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Kube, bringUp, cfgArgs, initShard, log, missingPlugins, paths, pulumiEnv, pulumiOk, setShardTenants, stopAll, waitFor } from "../local/lib.mjs";
import { startBare } from "./bare.mjs";
import { formatCell, median, summarise } from "./stats.mjs";

const arg = (name, dflt) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : dflt;
};
const SIZES = arg("--sizes", "1,10,50").split(",").map(Number);
const PER = Number(arg("--secrets", "10"));
const RUNS = Number(arg("--runs", "1"));
if (!Number.isInteger(RUNS) || RUNS < 1) {
    console.error(`bench --scale: --runs must be a whole number >= 1, got ${arg("--runs")}`);
    process.exit(2);
}
const METRICS = ["first", "noop", "addPreview", "addUp"];
// Both programs' ExternalSecrets re-read Vault this often. The program's default (1h): at the local
// stack's 10s, 500 ExternalSecrets are 50 syncs a second (each a Vault read, and without the token
// cache a login and a revoke), a load test of ESO and OpenBao that every new ExternalSecret's first
// sync queues behind (docs/scale.md).
const REFRESH = arg("--refresh", "1h");
const DEFAULT_ES = 3; // the default tenant's example-password, database-credentials, pull secret
const SHARDED = process.argv.includes("--shards");
const SHARD_SIZE = Number(arg("--shard-size", "5"));
if (!Number.isInteger(SHARD_SIZE) || SHARD_SIZE < 1) {
    console.error(`bench --scale: --shard-size must be a whole number >= 1, got ${arg("--shard-size")}`);
    process.exit(2);
}

/** Tenants t0..t(n-1), each with PER seeded secrets below its own prefix. */
const tenantsConfig = (n) =>
    Array.from({ length: n }, (_, t) => ({
        name: `t${t}`,
        namespace: `t${t}`,
        kvPrefix: `t${t}`,
        secrets: Array.from({ length: PER }, (_, i) => ({ name: `s${i}`, path: `t${t}/s${i}`, keys: ["value"] })),
    }));

/** How many ExternalSecrets are Ready (SecretSynced) across the cluster, and how many exist. */
async function readyCount(kube) {
    const r = await kube.get("/apis/external-secrets.io/v1/externalsecrets");
    const items = r.json?.items ?? [];
    const ready = items.filter((es) => (es.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True" && c.reason === "SecretSynced"));
    return { ready: ready.length, total: items.length };
}

/**
 * The stack's state after an `up`: its size and resource count. The engine rewrites the whole file
 * twice per step (a create's begin and end; a component also on registerOutputs), so an up's cost
 * grows with steps x size: the figures that explain the timings.
 */
function stateStats(dir, stack) {
    const stacks = path.join(paths(dir).state, ".pulumi", "stacks");
    for (const project of fs.readdirSync(stacks)) {
        for (const f of fs.readdirSync(path.join(stacks, project))) {
            if (!f.endsWith(".json") || (stack && f !== `${stack}.json`)) continue;
            const file = path.join(stacks, project, f);
            const resources = JSON.parse(fs.readFileSync(file, "utf8")).checkpoint?.latest?.resources ?? [];
            return { stateMB: fs.statSync(file).size / 1e6, resources: resources.length, components: resources.filter((r) => !r.custom).length };
        }
    }
    return { stateMB: NaN, resources: NaN, components: NaN };
}

/** Runs `up` and returns when it is done AND `expected` ExternalSecrets are Ready: { up, synced } in ms from its start. */
async function upUntil(d, args, env, kube, expected) {
    const t0 = Date.now();
    const up = await pulumiOk(d, ["up", "--yes", "--skip-preview", ...args], { env, timeoutMs: 60 * 60000 });
    await waitFor(`${expected} ExternalSecrets Ready`, async () => (await readyCount(kube).catch(() => ({ ready: 0 }))).ready >= expected, { timeoutMs: 15 * 60000, intervalMs: 500 });
    return { up: up.ms, synced: Date.now() - t0 };
}

async function measure(d, args, env, kube, n, setTenants) {
    await setTenants(n);
    const first = await upUntil(d, args, env, kube, DEFAULT_ES + n * PER);
    const stats = stateStats(d);
    const preview = async () => (await pulumiOk(d, ["preview", "--expect-no-changes", ...args], { env, timeoutMs: 30 * 60000 })).ms;
    const noop = Math.min(await preview(), await preview());
    await setTenants(n + 1);
    const addPreview = (await pulumiOk(d, ["preview", ...args], { env, timeoutMs: 30 * 60000 })).ms;
    const add = await upUntil(d, args, env, kube, DEFAULT_ES + (n + 1) * PER);
    return { first: first.synced, noop, addPreview, addUp: add.synced, ...stats };
}

async function ours(n) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-eso-scale-"));
    try {
        await bringUp(dir, { registryPassword: randomBytes(18).toString("base64url") });
        const env = pulumiEnv(dir);
        await pulumiOk(dir, ["config", "set", ...cfgArgs(dir), "vault-eso-platform:refreshInterval", REFRESH], { env });
        const set = (k) => pulumiOk(dir, ["config", "set", ...cfgArgs(dir), "vault-eso-platform:tenants", "--", JSON.stringify(tenantsConfig(k))], { env });
        return await measure(dir, cfgArgs(dir), env, Kube.admin(dir), n, set);
    } finally {
        await stopAll(dir);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** A tenant of tenantsConfig in shard s<i>: its KV in the shard's folder for its namespace (the kvPrefix default). */
const inShard = ({ kvPrefix: _, ...t }, i) => ({ ...t, secrets: t.secrets.map((s) => ({ ...s, path: `spokes/s${i}/${t.name}/${s.name}` })) });
/** Tenants t0..t(n-1) in shards s0, s1, ... of at most SHARD_SIZE each. */
const shardTenants = (n) => {
    const shards = [];
    tenantsConfig(n).forEach((t, j) => (shards[Math.floor(j / SHARD_SIZE)] ??= []).push(inShard(t, Math.floor(j / SHARD_SIZE))));
    return shards;
};

/** The program as a hub and tenant shards (--shards); one more tenant joins the last shard. */
async function sharded(n) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-eso-scale-shards-"));
    try {
        await bringUp(dir, { registryPassword: randomBytes(18).toString("base64url") });
        const env = pulumiEnv(dir);
        const kube = Kube.admin(dir);
        const hubArgs = cfgArgs(dir);
        await pulumiOk(dir, ["config", "set", ...hubArgs, "vault-eso-platform:refreshInterval", REFRESH], { env });
        const groups = shardTenants(n);
        await pulumiOk(dir, ["config", "set", ...hubArgs, "vault-eso-platform:spokes", "--", JSON.stringify(groups.map((_, i) => ({ name: `s${i}` })))], { env });
        // Each shard takes the hub's refreshInterval (initShard reads the hub's config file).
        const shards = [];
        for (const [i, ts] of groups.entries()) shards.push(await initShard(dir, `s${i}`, ts));

        const t0 = Date.now();
        await pulumiOk(dir, ["up", "--yes", "--skip-preview", ...hubArgs], { env, timeoutMs: 60 * 60000 });
        for (const sh of shards) await pulumiOk(dir, ["up", "--yes", "--skip-preview", ...sh.args], { env, timeoutMs: 60 * 60000 });
        await waitFor(`${DEFAULT_ES + n * PER} ExternalSecrets Ready`, async () => (await readyCount(kube).catch(() => ({ ready: 0 }))).ready >= DEFAULT_ES + n * PER, { timeoutMs: 15 * 60000, intervalMs: 500 });
        const first = Date.now() - t0;
        const last = shards[shards.length - 1];
        const hub = stateStats(dir, "local");
        const shard = stateStats(dir, last.stack);
        const preview = async (args) => (await pulumiOk(dir, ["preview", "--expect-no-changes", ...args], { env, timeoutMs: 30 * 60000 })).ms;
        const noop = Math.min(await preview(last.args), await preview(last.args));
        const hubNoop = await preview(hubArgs);
        // One more tenant, t<n>, joins the last shard (at 10 and 50 tenants it then holds SHARD_SIZE + 1).
        const lastIndex = groups.length - 1;
        setShardTenants(dir, `s${lastIndex}`, [...groups[lastIndex], inShard(tenantsConfig(n + 1)[n], lastIndex)]);
        const addPreview = (await pulumiOk(dir, ["preview", ...last.args], { env, timeoutMs: 30 * 60000 })).ms;
        const add = await upUntil(dir, last.args, env, kube, DEFAULT_ES + (n + 1) * PER);
        return { first, noop, addPreview, addUp: add.synced, hubNoop, shards: shards.length, lastShardTenants: groups[groups.length - 1].length, ...shard, hubState: hub };
    } finally {
        await stopAll(dir);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function bare(n) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-eso-scale-bare-"));
    try {
        const { args, env, kube, set } = await startBare(dir);
        await set("secretsPerTenant", String(PER));
        await set("refreshInterval", REFRESH);
        return await measure(dir, args, env, kube, n, (k) => set("tenants", String(k)));
    } finally {
        await stopAll(dir);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const missing = missingPlugins(pulumiEnv(os.tmpdir()));
if (missing.length) {
    console.log(`bench --scale: not run: provider plugins missing (${missing.join(", ")}; tools/README.md)`);
    process.exit(1);
}
const rows = [];
let failed = false;
for (const n of SIZES) {
    const runs = [];
    for (let k = 1; k <= RUNS; k++) {
        const of = RUNS > 1 ? ` (run ${k}/${RUNS})` : "";
        try {
            log(`scale: ${n} tenant(s) x ${PER} secrets${of}: the program ...`);
            const o = await (SHARDED ? sharded(n) : ours(n));
            log(`scale: ${n} tenant(s) x ${PER} secrets${of}: bare ...`);
            const b = await bare(n);
            runs.push({ o, b });
            console.log(JSON.stringify({ tenants: n, secretsPerTenant: PER, refreshInterval: REFRESH, run: k, ours: o, bare: b }));
        } catch (e) {
            failed = true;
            console.error(`bench --scale: size ${n}${of} failed: ${e.message}`);
        }
    }
    if (runs.length === 0) continue;
    const addCost = (x) => x.addPreview + x.addUp;
    // Every run leaves the same state: the last one's size and counts stand for the size.
    const last = runs[runs.length - 1];
    rows.push({ n, cells: summarise(runs, METRICS), state: { o: last.o, b: last.b }, add: { o: median(runs.map((r) => addCost(r.o))), b: median(runs.map((r) => addCost(r.b))) } });
}

const s = (ms) => `${(ms / 1000).toFixed(1)}s`;
const r = (a, b) => (a / b).toFixed(2);
const counted = RUNS > 1 ? `medians of ${RUNS} runs per size, ratio of the medians and (in brackets) the spread of the per-run ratios` : "one run per size";
const layout = SHARDED ? `ours: a hub and tenant shards of at most ${SHARD_SIZE} (--shards), the no-op preview and one more tenant the last shard's; bare: one stack; ` : "";
console.log(`\n== bench --scale (engine tier; ${layout}${counted}, fresh plane each; refreshInterval ${REFRESH}; 2 shared cores; targets: ours/bare <= 1.3x${SIZES.length > 1 ? `, one more tenant at ${SIZES[SIZES.length - 1]} <= 2x at ${SIZES[0]}` : ""})`);
console.log("| tenants x secrets | ExternalSecrets | first up -> all synced (ours / bare / ratio) | no-op preview (ours / bare / ratio) | one more tenant: preview (ours / bare / ratio) | one more tenant: up -> synced (ours / bare / ratio) |");
console.log("|---|---|---|---|---|---|");
for (const { n, cells } of rows) {
    console.log(`| ${n} x ${PER} | ${DEFAULT_ES + n * PER} | ${METRICS.map((m) => formatCell(cells[m])).join(" | ")} |`);
}
if (SHARDED) {
    const mb = (x) => `${x.stateMB.toFixed(2)} MB, ${x.resources} resources`;
    console.log("shards (ours): " + rows.map(({ n, state: { o } }) => `${n} x ${PER}: ${o.shards} shard(s), the last with ${o.lastShardTenants} tenant(s): ${mb(o)}; the hub ${mb(o.hubState)}, its no-op preview ${s(o.hubNoop)}`).join("; "));
}
console.log(`state after the first up (ours${SHARDED ? ": the last shard" : ""} / bare): ` + rows.map(({ n, state: { o, b } }) => `${n} x ${PER}: ${o.resources} / ${b.resources} resources (${o.components} / ${b.components} components), ${o.stateMB.toFixed(2)} / ${b.stateMB.toFixed(2)} MB`).join("; "));
if (rows.length >= 2) {
    const [lo, hi] = [rows[0], rows[rows.length - 1]];
    console.log(`one more tenant (preview + up${RUNS > 1 ? ", medians" : ""}), ours: ${s(hi.add.o)} at ${hi.n} tenants vs ${s(lo.add.o)} at ${lo.n} = ${r(hi.add.o, lo.add.o)}x (target <= 2x); bare: ${r(hi.add.b, lo.add.b)}x`);
    for (const mid of rows.slice(1, -1)) console.log(`  at ${mid.n} vs at ${lo.n}: ours ${r(mid.add.o, lo.add.o)}x, bare ${r(mid.add.b, lo.add.b)}x`);
}
process.exit(failed ? 1 : 0);

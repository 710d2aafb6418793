#!/usr/bin/env node
// `npm run bench`: one run of the local stack (temp data dir, removed afterwards; KEEP=1 keeps it)
// measuring, with the real Pulumi engine:
//   - `pulumi up` start -> every ExternalSecret Ready/SecretSynced (polled every 250 ms), and up's own time
//   - no-op `pulumi preview` and no-op `pulumi up`
//   - the program's start-up cost: TypeScript compile + module load, measured by loading index.ts the
//     way the language host does (vendored ts-node, with and without type checking), and as a share
//     of the no-op preview; plus the no-op preview with PULUMI_NODEJS_TRANSPILE_ONLY=true
//   - propagation delay of a value changed in OpenBao into the Kubernetes Secret
//   - OpenBao restarted (sealed) -> unsealed by `pulumi up`
//   - the same objects from a bare TypeScript program (bench/bare: same providers, no components,
//     no init provider, no waits) on a fresh plane: up -> all synced, no-op preview, no-op up; the
//     ratios ours/bare are the figures that matter (targets: converge <= 2x, no-op preview <= 1.15x)
//   - --scale: instead of all this, tenants at scale against the bare program (scripts/bench/scale.mjs)
//   - a fleet up with 1 and with 3 spokes, their ratio, a no-op fleet preview (scripts/bench/fleet.mjs;
//     --fleet: only that; --no-fleet skips it)
//   - chart mode on the one-node cluster (scripts/bench-cluster.mjs; --no-cluster skips it): up from
//     empty -> every ExternalSecret synced; vault-0 deleted -> unsealed and Ready again by `pulumi up`
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    Kube, bao, bringUp, cfgArgs, log, missingPlugins, pulumiEnv, pulumiOk, repoRoot, restartBao, stopAll, waitFor,
} from "./local/lib.mjs";
import { wireManually } from "./local/manual.mjs";
import { startBare } from "./bench/bare.mjs";

// --scale: tenants at scale (scripts/bench/scale.mjs), nothing else. --fleet: the fleet bench only.
if (process.argv.includes("--scale")) {
    await import("./bench/scale.mjs");
}
if (process.argv.includes("--fleet")) {
    await import("./bench/fleet.mjs");
}

const APP_NS = "demo-external-secrets";
const NAMES = ["example-password", "database-credentials", "gitlab-registry-secret"];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-eso-bench-"));
const bareDir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-eso-bench-bare-"));
const fig = {};
const s = (ms) => `${(ms / 1000).toFixed(2)}s`;

/**
 * Time to load index.ts and run its main as the language host would, against Pulumi's mocks (no
 * engine: every registration is answered at once, the stack's own outputs are empty).
 */
function programLoad(transpileOnly, cache) {
    const code = `
const path = require("path");
const t0 = process.hrtime.bigint();
const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
require(path.join(pulumiDir, "vendor", "ts-node@7.0.1")).register({
  compiler: "typescript", transpileOnly: ${transpileOnly}, cache: ${cache}, project: "tsconfig.json", skipProject: false, compilerOptions: {},
});
const t1 = process.hrtime.bigint();
(async () => {
  let err = "";
  try {
    require("@pulumi/pulumi").runtime.setMocks({ newResource: (a) => ({ id: a.name + "-id", state: a.inputs }), call: (a) => a.inputs }, "vault-eso-platform", "local", false, "organization");
    await require("./index.ts")();
  } catch (e) { err = String(e.message).split("\\n")[0]; }
  const t2 = process.hrtime.bigint();
  console.log(JSON.stringify({ register: Number(t1 - t0) / 1e6, load: Number(t2 - t1) / 1e6, err }));
  process.exit(0);
})();`;
    const env = { ...process.env, PULUMI_CONFIG: JSON.stringify({ "vault-eso-platform:vaultMode": "external", "vault-eso-platform:vaultAddress": "http://127.0.0.1:1", "vault-eso-platform:registryPullSecret": "false" }), PULUMI_NODEJS_STACK: "local", PULUMI_NODEJS_PROJECT: "vault-eso-platform" };
    const t0 = Date.now();
    // Its exit status is not the figure: the SDK reports registrations still in flight at exit.
    const out = spawnSync(process.execPath, ["-e", code], { cwd: repoRoot, env, encoding: "utf8" }).stdout;
    return { ...JSON.parse(out.trim().split("\n").pop()), wall: Date.now() - t0 };
}

function packagesLoad() {
    const code = `const t=process.hrtime.bigint();for (const m of ["@pulumi/pulumi","@pulumi/kubernetes","@pulumi/vault","@pulumi/random","@kubernetes/client-node"]) require(m);console.log(Number(process.hrtime.bigint()-t)/1e6)`;
    return Number(execFileSync(process.execPath, ["-e", code], { cwd: repoRoot, encoding: "utf8" }).trim());
}

/** `pulumi up` from start until every ExternalSecret is SecretSynced (polled every 250 ms). */
async function upUntilSynced(d, args, env, kube) {
    const t0 = Date.now();
    let syncedAt;
    let polling = true;
    const poller = (async () => {
        while (polling && !syncedAt) {
            try {
                if (await allSynced(kube)) syncedAt = Date.now();
            } catch {
                /* CRDs not there yet */
            }
            await new Promise((r) => setTimeout(r, 250));
        }
    })();
    const up = await pulumiOk(d, ["up", "--yes", "--skip-preview", ...args], { env });
    if (!syncedAt) await waitFor("all ExternalSecrets synced", () => allSynced(kube), { timeoutMs: 60000, intervalMs: 250 }).then(() => (syncedAt = Date.now()));
    polling = false;
    await poller;
    return { up: up.ms, synced: syncedAt - t0 };
}

/** The bare baseline on its own fresh plane: OpenBao initialised and unsealed here, then bench/bare. */
async function bareRun() {
    const { args, env, kube } = await startBare(bareDir);
    const first = await upUntilSynced(bareDir, args, env, kube);
    fig.bareFirstUp = first.up;
    fig.bareUpToAllSynced = first.synced;
    fig.bareNoopPreview = Math.min(
        (await pulumiOk(bareDir, ["preview", "--expect-no-changes", ...args], { env })).ms,
        (await pulumiOk(bareDir, ["preview", "--expect-no-changes", ...args], { env })).ms,
    );
    fig.bareNoopUp = (await pulumiOk(bareDir, ["up", "--yes", "--skip-preview", "--expect-no-changes", ...args], { env })).ms;
}

async function allSynced(kube) {
    for (const n of NAMES) {
        const r = await kube.get(`/apis/external-secrets.io/v1/namespaces/${APP_NS}/externalsecrets/${n}`);
        const c = (r.json?.status?.conditions ?? []).find((x) => x.type === "Ready");
        if (!(c?.status === "True" && c.reason === "SecretSynced")) return false;
    }
    return true;
}

try {
    const t0 = Date.now();
    await bringUp(dir, { registryPassword: randomBytes(18).toString("base64url") });
    fig.infrastructure = Date.now() - t0;
    const env = pulumiEnv(dir);
    const kube = Kube.admin(dir);
    const missing = missingPlugins(env);
    let token;

    if (missing.length) {
        fig.blocked = `provider plugins missing (${missing.join(", ")}): pulumi up / no-op preview / no-op up not measured; objects wired by hand (scripts/local/manual.mjs)`;
        log(fig.blocked);
        const t1 = Date.now();
        token = (await wireManually(dir, { registryPassword: randomBytes(18).toString("base64url") })).rootToken;
        await waitFor("all ExternalSecrets synced", () => allSynced(kube), { timeoutMs: 120000, intervalMs: 250 });
        fig.manualToAllSynced = Date.now() - t1;
        // The program up to its first provider call (the CLI, language host, ts-node, config validation).
        const pv = await pulumiOk(dir, ["preview", ...cfgArgs(dir)], { env }).catch((e) => e.result);
        fig.previewUntilPluginError = pv.ms;
        const pvt = await pulumiOk(dir, ["preview", ...cfgArgs(dir)], { env: { ...env, PULUMI_NODEJS_TRANSPILE_ONLY: "false" } }).catch((e) => e.result);
        fig.previewUntilPluginErrorTypecheck = pvt.ms;
        const cold = { ...env, TS_NODE_CACHE: "false" };
        fig.previewUntilPluginErrorCold = (await pulumiOk(dir, ["preview", ...cfgArgs(dir)], { env: cold }).catch((e) => e.result)).ms;
        fig.previewUntilPluginErrorTypecheckCold = (await pulumiOk(dir, ["preview", ...cfgArgs(dir)], { env: { ...cold, PULUMI_NODEJS_TRANSPILE_ONLY: "false" } }).catch((e) => e.result)).ms;
    } else {
    log("pulumi up (first deploy)...");
    const first = await upUntilSynced(dir, cfgArgs(dir), env, kube);
    fig.firstUp = first.up;
    fig.upToAllSynced = first.synced;

    log("no-op preview / up ...");
    fig.noopPreview = (await pulumiOk(dir, ["preview", "--expect-no-changes", ...cfgArgs(dir)], { env })).ms;
    fig.noopPreview2 = (await pulumiOk(dir, ["preview", "--expect-no-changes", ...cfgArgs(dir)], { env })).ms;
    fig.noopUp = (await pulumiOk(dir, ["up", "--yes", "--skip-preview", "--expect-no-changes", ...cfgArgs(dir)], { env })).ms;
    fig.noopPreviewTypecheck = (await pulumiOk(dir, ["preview", "--expect-no-changes", ...cfgArgs(dir)], { env: { ...env, PULUMI_NODEJS_TRANSPILE_ONLY: "false" } })).ms;
    token = JSON.parse((await pulumiOk(dir, ["stack", "output", "vaultAdminToken", "--show-secrets", "--json", "--stack", "local"], { env })).stdout);
    }

    log("program start-up cost ...");
    // ts-node 7 (vendored by @pulumi/pulumi, used by the language host) caches compiled files in
    // $TMPDIR/ts-node-*: the first run on a machine is "cold" (CI), later ones "warm".
    const tc = programLoad(false, false);
    const tr = programLoad(true, false);
    programLoad(false, true);
    const tcw = programLoad(false, true);
    fig.programLoadTypecheck = Math.round(tc.register + tc.load);
    fig.programLoadTranspileOnly = Math.round(tr.register + tr.load);
    fig.programLoadWarmCache = Math.round(tcw.register + tcw.load);
    fig.packagesLoadOnly = Math.round(packagesLoad());
    fig.programLoadStoppedAt = tc.err;

    log("propagation ...");
    const orig = (await bao(dir, "GET", "kv/data/path_to_secret", undefined, token)).json.data.data;
    const next = randomBytes(16).toString("hex");
    const tw = Date.now();
    await bao(dir, "POST", "kv/data/path_to_secret", { data: { ...orig, password: next } }, token);
    await waitFor("propagation", async () => {
        const r = await kube.get(`/api/v1/namespaces/${APP_NS}/secrets/example-password`);
        return Buffer.from(r.json?.data?.password ?? "", "base64").toString() === next;
    }, { timeoutMs: 60000, intervalMs: 100 });
    fig.propagation = Date.now() - tw;
    await bao(dir, "POST", "kv/data/path_to_secret", { data: orig }, token);

    if (!missing.length) {
        log("reseal: OpenBao restarted (sealed) -> pulumi up unseals ...");
        await restartBao(dir);
        const tr0 = Date.now();
        await pulumiOk(dir, ["up", "--yes", "--skip-preview", ...cfgArgs(dir)], { env });
        const seal = await bao(dir, "GET", "sys/seal-status");
        if (seal.json.sealed !== false) throw new Error("still sealed after pulumi up");
        fig.resealUp = Date.now() - tr0;
        await stopAll(dir);
        log("bare baseline (bench/bare) on a fresh plane ...");
        await bareRun();
    }
} catch (e) {
    console.error(`bench failed: ${e.message}`);
    process.exitCode = 1;
} finally {
    if (process.env.KEEP === "1") log(`KEEP=1: left running in ${dir}`);
    else {
        await stopAll(dir);
        await stopAll(bareDir);
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(bareDir, { recursive: true, force: true });
    }
}

console.log("\n== bench (one run; 2 shared cores)");
const line = (k, label, extra = "") => fig[k] !== undefined && console.log(`${label.padEnd(58)} ${s(fig[k])}${extra}`);
line("infrastructure", "control plane + OpenBao + stack setup");
line("firstUp", "pulumi up (first deploy), total");
line("upToAllSynced", "pulumi up start -> every ExternalSecret SecretSynced");
line("noopPreview", "no-op pulumi preview (transpile-only, as the scripts run it)");
line("noopPreview2", "no-op pulumi preview (again)");
line("noopUp", "no-op pulumi up (transpile-only)");
line("noopPreviewTypecheck", "no-op pulumi preview with ts-node type checking (default)");
line("manualToAllSynced", "(no plugins) hand wiring -> every ExternalSecret SecretSynced");
line("previewUntilPluginError", "(no plugins) pulumi preview until the missing-plugin error, transpile-only");
line("previewUntilPluginErrorTypecheck", "(no plugins) the same with ts-node type checking (default)");
line("previewUntilPluginErrorCold", "(no plugins) preview-until-error, transpile-only, no ts-node cache");
line("previewUntilPluginErrorTypecheckCold", "(no plugins) preview-until-error, type check, no ts-node cache");
if (fig.programLoadTypecheck !== undefined && fig.noopPreview === undefined) {
    console.log("(program start-up = index.ts outside the engine, against Pulumi's mocks: TypeScript compile + require of every module + config validation + every resource constructor)");
    line("programLoadTranspileOnly", "program start-up, cold: ts-node transpile-only + load", fig.previewUntilPluginErrorCold ? ` = ${((100 * fig.programLoadTranspileOnly) / fig.previewUntilPluginErrorCold).toFixed(0)}% of the cold preview-until-error` : "");
    line("programLoadTypecheck", "program start-up, cold: ts-node type check + load", fig.previewUntilPluginErrorTypecheckCold ? ` = ${((100 * fig.programLoadTypecheck) / fig.previewUntilPluginErrorTypecheckCold).toFixed(0)}% of the cold type-checking preview-until-error` : "");
    line("programLoadWarmCache", "program start-up, warm ts-node cache (type check)");
    line("packagesLoadOnly", "  of which require() of @pulumi/* + client-node alone");
}
if (fig.programLoadTypecheck !== undefined && fig.noopPreview !== undefined) {
    const base = Math.min(fig.noopPreview, fig.noopPreview2 ?? Infinity);
    line("programLoadTranspileOnly", "program start-up, cold: ts-node transpile-only + load", ` = ${((100 * fig.programLoadTranspileOnly) / base).toFixed(0)}% of the no-op preview`);
    line("programLoadWarmCache", "program start-up, warm ts-node cache (type check)", ` = ${((100 * fig.programLoadWarmCache) / base).toFixed(0)}% of the no-op preview`);
    if (fig.noopPreviewTypecheck) line("programLoadTypecheck", "program start-up: ts-node type check + module load", ` = ${((100 * fig.programLoadTypecheck) / fig.noopPreviewTypecheck).toFixed(0)}% of the type-checking no-op preview`);
    line("packagesLoadOnly", "  of which require() of @pulumi/* + client-node alone");
}
line("propagation", "OpenBao change -> Kubernetes Secret (refreshInterval 10s)");
line("resealUp", "OpenBao restarted (sealed) -> unsealed by pulumi up");
if (fig.bareUpToAllSynced !== undefined) {
    const ratio = (a, b, target) => ` = ${(fig[a] / fig[b]).toFixed(2)}x the bare program (target <= ${target}x)`;
    console.log("-- against the bare program (bench/bare: same objects and providers, no components/init/waits; fresh plane)");
    line("bareUpToAllSynced", "bare: pulumi up start -> every ExternalSecret SecretSynced");
    line("upToAllSynced", "ours: the same", ratio("upToAllSynced", "bareUpToAllSynced", 2));
    line("bareNoopPreview", "bare: no-op pulumi preview (best of 2)");
    fig.noopPreviewBest = Math.min(fig.noopPreview, fig.noopPreview2 ?? Infinity);
    line("noopPreviewBest", "ours: no-op pulumi preview (best of 2)", ratio("noopPreviewBest", "bareNoopPreview", 1.15));
    line("bareNoopUp", "bare: no-op pulumi up");
    line("noopUp", "ours: no-op pulumi up", ` = ${(fig.noopUp / fig.bareNoopUp).toFixed(2)}x the bare program`);
}
if (fig.blocked) console.log(`NOT MEASURED: ${fig.blocked}`);
console.log(JSON.stringify(fig));

// The fleet: 1 vs 3 spokes (scripts/bench/fleet.mjs).
if (!process.argv.includes("--no-fleet")) {
    const { fleetBench } = await import("./bench/fleet.mjs");
    await fleetBench().catch((e) => {
        console.error(`fleet bench failed: ${e.message}`);
        process.exitCode = 1;
    });
}

// Chart mode on the one-node cluster (scripts/bench-cluster.mjs), or the reason it is not measured.
if (!process.argv.includes("--no-cluster")) {
    const r = spawnSync(process.execPath, [path.join(repoRoot, "scripts", "bench-cluster.mjs")], { stdio: "inherit" });
    if (r.status !== 0) process.exitCode = 1;
}

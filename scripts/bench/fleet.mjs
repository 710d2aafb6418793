// `npm run bench -- --fleet` (and part of the plain `npm run bench`): a fleet `up` with 1 spoke and
// with 3 spokes (`--parallel 3`), each on fresh infrastructure (the local stack's OpenBao and plane
// as the hub, one loopback control plane per spoke: scripts/local/lib/fleet.mjs), timed from the
// runner's start to its exit, then a no-op fleet preview. The ratio 3/1 of the `up` wall times is the
// figure (target <= 1.5x: spokes run in parallel). Prints figures; asserts nothing.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FLEET_SPOKES, bringUp, bringUpSpoke, fleetCli, log, missingPlugins, pulumiEnv, tearDown, writeFleetFile } from "../local/lib.mjs";

const s = (ms) => `${(ms / 1000).toFixed(1)}s`;

/** One fleet of `n` spokes from nothing: up (wall time), then a no-op preview. */
async function measure(n) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vault-eso-bench-fleet${n}-`));
    try {
        await bringUp(dir, { registryPassword: "bench-registry" });
        const names = FLEET_SPOKES.slice(0, n);
        for (const name of names) await bringUpSpoke(dir, name);
        writeFleetFile(dir, names);
        log(`fleet of ${n}: up (parallel 3) ...`);
        const t0 = Date.now();
        const up = await fleetCli(dir, "up", { echo: false });
        const upMs = Date.now() - t0;
        if (up.code !== 0) throw new Error(`fleet up of ${n} failed:\n${up.stdout.slice(-2000)}`);
        const t1 = Date.now();
        const preview = await fleetCli(dir, "preview", { echo: false });
        const previewMs = Date.now() - t1;
        if (preview.code !== 0) throw new Error(`no-op fleet preview of ${n} failed:\n${preview.stdout.slice(-2000)}`);
        const byStack = (r) => Object.fromEntries(r.report.stacks.map((x) => [x.stack, x.ms]));
        return { upMs, previewMs, up: byStack(up), preview: byStack(preview) };
    } finally {
        await tearDown(dir);
    }
}

export async function fleetBench() {
    const missing = missingPlugins(pulumiEnv(os.tmpdir()));
    if (missing.length) {
        console.log(`\n== fleet bench: NOT MEASURED: provider plugins missing (${missing.join(", ")})`);
        return undefined;
    }
    const one = await measure(1);
    const three = await measure(3);
    const ratio = three.upMs / one.upMs;
    console.log("\n== fleet bench (npm run fleet, --parallel 3; each size on fresh infrastructure; one run, 2 shared cores)");
    console.log(`${"fleet up, 1 spoke (hub, then the spoke)".padEnd(58)} ${s(one.upMs)}   (per stack: ${Object.entries(one.up).map(([k, v]) => `${k} ${s(v)}`).join(", ")})`);
    console.log(`${"fleet up, 3 spokes (hub, then 3 in parallel)".padEnd(58)} ${s(three.upMs)}   (per stack: ${Object.entries(three.up).map(([k, v]) => `${k} ${s(v)}`).join(", ")})`);
    console.log(`${"ratio 3 spokes / 1 spoke".padEnd(58)} ${ratio.toFixed(2)}x (target <= 1.5x)`);
    console.log(`${"no-op fleet preview, 1 spoke".padEnd(58)} ${s(one.previewMs)}`);
    console.log(`${"no-op fleet preview, 3 spokes".padEnd(58)} ${s(three.previewMs)}   (${(three.previewMs / one.previewMs).toFixed(2)}x)`);
    const fig = { fleetUp1: one.upMs, fleetUp3: three.upMs, fleetRatio: ratio, fleetNoopPreview1: one.previewMs, fleetNoopPreview3: three.previewMs };
    console.log(JSON.stringify(fig));
    return fig;
}

// Run directly (npm run bench -- --fleet): the fleet bench only.
if (process.argv.includes("--fleet")) {
    try {
        await fleetBench();
        process.exit(0);
    } catch (e) {
        console.error(`fleet bench failed: ${e.message}`);
        process.exit(1);
    }
}

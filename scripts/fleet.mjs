#!/usr/bin/env node
// `npm run fleet -- preview|up|destroy [--parallel N] [--file <fleet file>]`: one hub stack and its
// spoke stacks as one fleet, on the Automation API (scripts/fleet/). The hub first, then the spokes
// in parallel (at most N at once, default 4); a spoke removed from the fleet file has its stack
// destroyed before the hub revokes its token. Live progress per stack, a summary table, exit 1 if
// any stack failed; --json <file> writes the same per stack, with its steps. The fleet file's format: scripts/fleet/file.mjs and README "Fleets".
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { FleetFileError, loadFleet } from "./fleet/file.mjs";
import { progressPrinter, summaryTable } from "./fleet/report.mjs";
import { runFleet } from "./fleet/run.mjs";

const USAGE = `usage: npm run fleet -- preview|up|destroy [--parallel N] [--file <fleet file>] [--json <report file>] [--stack <one stack>]
       npm run fleet -- list [--file <fleet file>]     the fleet's stacks as JSON (a CI matrix)`;
const argv = process.argv.slice(2);
const op = argv[0];
const flag = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
};
const problems = [];
if (!["preview", "up", "destroy", "list"].includes(op)) problems.push(`operation "${op ?? ""}": use preview, up, destroy or list`);
const parallel = Number(flag("--parallel") ?? 4);
if (!Number.isInteger(parallel) || parallel < 1 || parallel > 32) problems.push(`--parallel ${flag("--parallel")}: a whole number from 1 to 32`);
for (const a of argv.slice(1)) if (a.startsWith("--") && !["--parallel", "--file", "--json", "--stack"].includes(a)) problems.push(`${a}: unknown option`);
try {
    if (op !== "list") execFileSync("pulumi", ["version"], { stdio: "ignore" });
} catch {
    problems.push('the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/), or use the tools cache\'s: eval "$(node tools/run.mjs --env)"');
}
if (problems.length) {
    console.error(`${problems.map((p) => `error: ${p}`).join("\n")}\n${USAGE}`);
    process.exit(2);
}

let fleet;
try {
    fleet = loadFleet(flag("--file") ?? "fleet.yaml");
} catch (e) {
    if (!(e instanceof FleetFileError)) throw e;
    console.error(`error: ${e.message}`);
    process.exit(2);
}

if (op === "list") {
    console.log(JSON.stringify([fleet.hub, ...fleet.spokes].map((s) => ({ stack: s.stack, role: s.role }))));
    process.exit(0);
}
const only = flag("--stack");
if (only && ![fleet.hub, ...fleet.spokes].some((s) => s.stack === only)) {
    console.error(`error: --stack ${only} is not a stack of ${fleet.file} (${[fleet.hub, ...fleet.spokes].map((s) => s.stack).join(", ")})`);
    process.exit(2);
}

const t0 = Date.now();
console.log(`fleet ${op}: hub ${fleet.hub.stack}, spokes ${fleet.spokes.map((s) => s.stack).join(", ") || "none"} (parallel ${parallel}; policy pack ${fleet.policyPack})`);
const progress = progressPrinter({ width: Math.max(8, fleet.hub.stack.length, ...fleet.spokes.map((s) => s.stack.length)) + 1 });
const abort = new AbortController();
process.once("SIGINT", () => {
    console.error("interrupted: cancelling the running operations (each stack stops cleanly)");
    abort.abort();
});
let rows;
try {
    rows = await runFleet(fleet, op, { parallel, progress, signal: abort.signal, only });
} finally {
    progress.stop();
}
console.log(`\n${summaryTable(rows, op)}\nfleet ${op} took ${((Date.now() - t0) / 1000).toFixed(1)}s`);
// --json: the same per stack, with the steps that change something (for CI and the e2e).
if (flag("--json")) fs.writeFileSync(flag("--json"), JSON.stringify({ op, ms: Date.now() - t0, stacks: rows }, null, 2));
process.exit(rows.every((r) => r.result === "ok") ? 0 : 1);

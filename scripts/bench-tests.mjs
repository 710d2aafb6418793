#!/usr/bin/env node
// `npm run bench:tests`: where `npm test`'s wall time goes. Runs its parts one after the other
// and prints wall figures per step, per jest project and per test file, with the load average
// (the machine is shared: read the figures against it). Measures only; asserts nothing.
//   --cold         drop the static-check caches and jest's transform cache first
//   --workers N    jest --maxWorkers N (default: jest.config.js)
//   -- <args>      extra jest arguments (e.g. --selectProjects unit)
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const extra = argv.includes("--") ? argv.slice(argv.indexOf("--") + 1) : [];
const opts = argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;
const cold = opts.includes("--cold");
const workers = opts.includes("--workers") ? opts[opts.indexOf("--workers") + 1] : undefined;

const s = (ms) => `${(ms / 1000).toFixed(1)}s`;
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(" ");

function run(cmd, args, quiet = true) {
    const started = Date.now();
    return new Promise((resolve) => {
        const p = spawn(cmd, args, { cwd: root, stdio: ["ignore", quiet ? "pipe" : "inherit", quiet ? "pipe" : "inherit"] });
        let out = "";
        p.stdout?.on("data", (d) => (out += d));
        p.stderr?.on("data", (d) => (out += d));
        p.once("close", (code) => resolve({ code, out, ms: Date.now() - started }));
    });
}

const jestBin = path.join(root, "node_modules", ".bin", "jest");
if (cold) {
    fs.rmSync(path.join(root, "node_modules", ".cache", "vault-eso-platform"), { recursive: true, force: true });
    await run(jestBin, ["--clearCache"]);
}

console.log(`cores ${os.cpus().length}, load average at start ${load()}${cold ? ", cold caches" : ""}`);
const t0 = Date.now();
const steps = [];
for (const check of ["tsc", "eslint"]) {
    const r = await run(process.execPath, [path.join(root, "scripts", "check.mjs"), check]);
    steps.push([`${check} (scripts/check.mjs ${check})`, r.ms, r.code]);
}

const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-tests-")), "jest.json");
const jestArgs = ["--json", "--outputFile", json, ...(workers ? ["--maxWorkers", workers] : []), ...extra];
const jr = await run(jestBin, jestArgs);
steps.push([`jest ${jestArgs.filter((a) => a !== json && a !== "--json" && a !== "--outputFile").join(" ")}`.trim(), jr.ms, jr.code]);
const total = Date.now() - t0;

console.log(`\n${"step".padEnd(60)} ${"wall".padStart(7)}  exit`);
for (const [name, ms, code] of steps) console.log(`${name.padEnd(60)} ${s(ms).padStart(7)}  ${code}`);
console.log(`${"total (sequential; npm test runs tsc and eslint side by side)".padEnd(60)} ${s(total).padStart(7)}`);

if (!fs.existsSync(json)) {
    console.log(`\njest wrote no results:\n${jr.out.slice(-3000)}`);
    process.exit(1);
}
const results = JSON.parse(fs.readFileSync(json, "utf8"));
fs.rmSync(path.dirname(json), { recursive: true, force: true });
const files = results.testResults.map((t) => {
    const rel = path.relative(root, t.name);
    return { rel, project: rel.split(path.sep)[1], start: t.startTime, end: t.endTime, ms: t.endTime - t.startTime, tests: t.assertionResults.length, status: t.status };
});
const first = Math.min(...files.map((f) => f.start));

console.log(`\n${"jest project".padEnd(12)} ${"files".padStart(5)} ${"tests".padStart(6)} ${"sum of files".padStart(13)} ${"span".padStart(7)}   (span: first file start to last file end)`);
for (const project of [...new Set(files.map((f) => f.project))].sort()) {
    const fs_ = files.filter((f) => f.project === project);
    const span = Math.max(...fs_.map((f) => f.end)) - Math.min(...fs_.map((f) => f.start));
    console.log(`${project.padEnd(12)} ${String(fs_.length).padStart(5)} ${String(fs_.reduce((n, f) => n + f.tests, 0)).padStart(6)} ${s(fs_.reduce((n, f) => n + f.ms, 0)).padStart(13)} ${s(span).padStart(7)}`);
}

console.log(`\n${"test file".padEnd(42)} ${"wall".padStart(6)} ${"from".padStart(6)} ${"tests".padStart(6)}  status`);
for (const f of files.sort((a, b) => b.ms - a.ms)) {
    console.log(`${f.rel.padEnd(42)} ${s(f.ms).padStart(6)} ${`+${s(f.start - first)}`.padStart(6)} ${String(f.tests).padStart(6)}  ${f.status}`);
}
console.log(`\nload average at end ${load()}; jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed`);
process.exitCode = steps.some(([, , code]) => code !== 0) ? 1 : 0;

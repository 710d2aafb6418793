#!/usr/bin/env node
// `npm test`'s static checks: the type check (tsc) and the lint (eslint), run side by side and
// cached so that a run with nothing changed costs seconds, with exactly the results of
// `npm run build` / `npm run lint` (which stay uncached).
//   - tsc: `tsc -b scripts/tsconfig.check.json` (noEmit + incremental; skips when no input is newer
//     than its build info). Its up-to-date check ignores node_modules, so an install newer than the
//     build info (npm writes node_modules/.package-lock.json) drops the build info first.
//   - eslint: `eslint --cache`. Type-aware rules (no-floating-promises, the Pulumi template-literal
//     rules) depend on other files' types, which eslint's per-file cache does not track; so the
//     cache is keyed by a hash of every linted file, the configs and the installed packages: any
//     change starts a fresh cache, i.e. a full lint.
// Usage: node scripts/check.mjs [tsc] [eslint]   (default: both)
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cache = path.join(root, "node_modules", ".cache", "vault-eso-platform");
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const installed = path.join(root, "node_modules", ".package-lock.json");

function tscArgs() {
    const info = path.join(cache, "tsc.tsbuildinfo");
    if (fs.existsSync(info) && (!fs.existsSync(installed) || fs.statSync(installed).mtimeMs >= fs.statSync(info).mtimeMs)) {
        fs.rmSync(info);
    }
    return [bin("tsc"), ["-b", path.join("scripts", "tsconfig.check.json")]];
}

/** Every .ts file eslint lints (eslint.config.mjs ignores node_modules, bin, tools and JS). */
function lintedFiles(dir = root, out = []) {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (e.name === "node_modules" || e.name.startsWith(".") || (dir === root && (e.name === "bin" || e.name === "tools"))) continue;
        const p = path.join(dir, e.name);
        if (e.isDirectory()) lintedFiles(p, out);
        else if (e.name.endsWith(".ts")) out.push(p);
    }
    return out;
}

function eslintArgs() {
    const h = createHash("sha256");
    for (const f of [...lintedFiles(), ...["eslint.config.mjs", "tsconfig.json", "package-lock.json"].map((f) => path.join(root, f)), installed]) {
        h.update(`${path.relative(root, f)}\0`);
        if (fs.existsSync(f)) h.update(fs.readFileSync(f));
        h.update("\0");
    }
    const dir = path.join(cache, "eslint");
    const file = `${h.digest("hex").slice(0, 16)}.json`;
    fs.mkdirSync(dir, { recursive: true });
    for (const f of fs.readdirSync(dir)) if (f !== file) fs.rmSync(path.join(dir, f), { force: true });
    return [bin("eslint"), ["--cache", "--cache-strategy", "content", "--cache-location", path.join(dir, file), "."]];
}

/** Runs a command, buffering its output so that parallel checks print one after the other. */
function run(name, [cmd, args]) {
    const started = Date.now();
    return new Promise((resolve) => {
        const p = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        p.stdout.on("data", (d) => (out += d));
        p.stderr.on("data", (d) => (out += d));
        p.once("error", (e) => resolve({ name, code: 1, out: `${e.message}\n`, ms: Date.now() - started }));
        p.once("close", (code) => resolve({ name, code: code ?? 1, out, ms: Date.now() - started }));
    });
}

const wanted = process.argv.slice(2);
const checks = { tsc: tscArgs, eslint: eslintArgs };
for (const w of wanted) {
    if (!(w in checks)) {
        console.error(`usage: node scripts/check.mjs [tsc] [eslint]; unknown check ${w}`);
        process.exit(2);
    }
}
const results = await Promise.all((wanted.length ? wanted : Object.keys(checks)).map((n) => run(n, checks[n]())));
for (const r of results) {
    process.stdout.write(r.out);
    console.log(`${r.name}: ${r.code === 0 ? "ok" : `failed (exit ${r.code})`} in ${(r.ms / 1000).toFixed(1)}s`);
}
process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;

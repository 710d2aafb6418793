// The Pulumi CLI of a local run: environment, plugin discovery, command runner, stack setup.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PREVIEW_ENV } from "../../previewEnv.mjs";
import { PASSPHRASE, STACK, paths, repoRoot } from "./base.mjs";

/** The provider packages of the program; their installed versions are the plugin versions. */
const PROVIDER_PACKAGES = ["kubernetes", "vault", "random"];

/**
 * The provider plugins the program needs, as the engine looks them up: the exact versions of the
 * installed @pulumi/<name> packages (package.json/package-lock.json are the one source of truth).
 */
export function requiredPlugins(root = repoRoot) {
    return PROVIDER_PACKAGES.map((name) => {
        const pkg = JSON.parse(fs.readFileSync(path.join(root, "node_modules", "@pulumi", name, "package.json"), "utf8"));
        return { name, version: pkg.version };
    });
}

/** Plugins of `plugins` found neither in <home>/plugins/resource-<name>-v<version>/ nor in a PATH dir. */
export function pluginsMissingFrom(home, pathDirs, plugins = requiredPlugins()) {
    return plugins.filter(({ name, version }) => {
        const exe = `pulumi-resource-${name}`;
        if (home && fs.existsSync(path.join(home, "plugins", `resource-${name}-v${version}`, exe))) return false;
        return !pathDirs.some((d) => fs.existsSync(path.join(d, exe)));
    });
}

const label = ({ name, version }) => `pulumi-resource-${name} v${version}`;

/** The environment of `tools/run.mjs --env`: the tools cache's bin on PATH, its pulumi-home. */
function toolsEnv() {
    const out = execFileSync("bash", ["-c", `eval "$(${JSON.stringify(process.execPath)} tools/run.mjs --env)" && env -0`], {
        cwd: repoRoot,
        encoding: "utf8",
    });
    const env = {};
    for (const kv of out.split("\0")) {
        const i = kv.indexOf("=");
        if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    return env;
}

/**
 * Where the engine gets its provider plugins:
 * - "cache": the tools cache's pulumi-home, automatic plugin download off (offline, hermetic). Used
 *   when every plugin is already there, or when asked (LOCAL_PLUGINS=cache).
 * - "user": the user's own Pulumi home ($PULUMI_HOME, else ~/.pulumi); missing plugins are installed
 *   at the exact pinned versions with `pulumi plugin install` (needs network), as a normal Pulumi
 *   install would. Used otherwise, or when asked (LOCAL_PLUGINS=user).
 */
export function pluginMode(toolsHome, pathDirs, want = process.env.LOCAL_PLUGINS) {
    if (want === "cache" || want === "user") return want;
    if (want) throw new Error(`LOCAL_PLUGINS=${want}: use "cache" (offline, the tools cache) or "user" (your Pulumi home)`);
    return pluginsMissingFrom(toolsHome, pathDirs).length === 0 ? "cache" : "user";
}

/** The Pulumi environment of a local run: file backend in the data dir, passphrase, plugin mode. */
export function pulumiEnv(dir, extra = {}) {
    const env = toolsEnv();
    const pathDirs = (env.PATH ?? "").split(":").filter(Boolean);
    const toolsHome = env.PULUMI_HOME;
    const userHome = process.env.PULUMI_HOME || path.join(env.HOME || process.env.HOME || "", ".pulumi");
    const mode = pluginMode(toolsHome, pathDirs);
    if (mode === "user") {
        env.PULUMI_HOME = userHome;
        delete env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION;
    } else {
        env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION = "true";
    }
    // The policy analyzer plugin: the cache's if it has one, else our shim (scripts/local/shims).
    const hasAnalyzer = pathDirs.some((d) => fs.existsSync(path.join(d, "pulumi-analyzer-policy")));
    if (!hasAnalyzer) env.PATH = `${env.PATH}:${path.join(repoRoot, "scripts", "local", "shims")}`;
    return {
        ...env,
        LOCAL_PLUGINS: mode,
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        KUBECONFIG: path.join(dir, "kubeconfig"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_SKIP_CONFIRMATIONS: "true",
        // `npm test` already type-checks (tsc --noEmit); ts-node type-checking the program again on
        // every pulumi run costs ~20 s on this machine (scripts/bench.mjs). PULUMI_TYPECHECK=1 restores it.
        PULUMI_NODEJS_TRANSPILE_ONLY: process.env.PULUMI_TYPECHECK === "1" ? "false" : "true",
        ...extra,
    };
}

/** Plugins the engine would not find with this environment (labels like "pulumi-resource-vault v7.8.0"). */
export function missingPlugins(env) {
    return pluginsMissingFrom(env.PULUMI_HOME, (env.PATH ?? "").split(":").filter(Boolean)).map(label);
}

/**
 * In "user" mode, installs the missing plugins at their exact versions with `pulumi plugin install`
 * (the engine's own download). Returns what is still missing, with the reason, for a clear error.
 */
export function ensurePlugins(env) {
    if (env.LOCAL_PLUGINS !== "user") return { missing: missingPlugins(env), errors: [] };
    const errors = [];
    const pathDirs = (env.PATH ?? "").split(":").filter(Boolean);
    for (const p of pluginsMissingFrom(env.PULUMI_HOME, pathDirs)) {
        try {
            execFileSync("pulumi", ["plugin", "install", "resource", p.name, p.version], { env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
        } catch (e) {
            errors.push(`${label(p)}: pulumi plugin install failed: ${String(e.stderr || e.message).trim().split("\n").slice(-1)[0]}`);
        }
    }
    return { missing: missingPlugins(env), errors };
}

export { PREVIEW_ENV };

/** The environment `pulumi <args>` runs with: `env`, and for a preview PREVIEW_ENV unless `env` sets it. */
export function commandEnv(args, env) {
    return args[0] === "preview" ? { ...PREVIEW_ENV, ...env } : env;
}

/**
 * Runs the pulumi CLI in the project dir. Resolves { code, stdout, stderr, ms }; never throws on a
 * non-zero exit. `echo` streams output (used by `npm run local`); tests keep it in memory.
 */
export function pulumi(dir, args, { env, echo = false, input, timeoutMs = 30 * 60000 } = {}) {
    return new Promise((resolve) => {
        const t0 = Date.now();
        const child = spawn("pulumi", args, { cwd: repoRoot, env: commandEnv(args, env ?? pulumiEnv(dir)), stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => {
            stdout += d;
            if (echo) process.stdout.write(d);
        });
        child.stderr.on("data", (d) => {
            stderr += d;
            if (echo) process.stderr.write(d);
        });
        const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr, ms: Date.now() - t0 });
        });
        child.on("error", (e) => {
            clearTimeout(timer);
            resolve({ code: -1, stdout, stderr: stderr + String(e), ms: Date.now() - t0 });
        });
        if (input !== undefined) child.stdin.end(input);
        else child.stdin.end();
    });
}

/** pulumi with the data dir's stack config file (all commands that read stack config accept it). */
export function cfgArgs(dir) {
    return ["--stack", STACK, "--config-file", paths(dir).stackConfig];
}

export async function pulumiOk(dir, args, opts) {
    const r = await pulumi(dir, args, opts);
    if (r.code !== 0) {
        const err = new Error(`pulumi ${args.join(" ")} failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-4000)}`);
        err.result = r;
        throw err;
    }
    return r;
}

/** Creates the stack in the data dir's backend and writes the dynamic settings into its config file. */
export async function initStack(dir, { vaultAddress, kubernetesHost, registryPassword, extraConfig = {}, template = `Pulumi.${STACK}.yaml` }) {
    const p = paths(dir);
    fs.mkdirSync(p.state, { recursive: true });
    fs.copyFileSync(path.join(repoRoot, template), p.stackConfig);
    const env = pulumiEnv(dir);
    const ls = await pulumi(dir, ["stack", "ls", "--json"], { env });
    const exists = ls.code === 0 && JSON.parse(ls.stdout || "[]").some((s) => s.name === STACK || s.name.endsWith(`/${STACK}`));
    if (!exists) await pulumiOk(dir, ["stack", "init", STACK, "--secrets-provider", "passphrase"], { env });
    const set = (k, v, secret = false) =>
        pulumiOk(dir, ["config", "set", ...cfgArgs(dir), ...(secret ? ["--secret"] : ["--plaintext"]), k, "--", v], { env });
    // External mode only: chart mode reaches Vault through its tunnel, and Vault the API in-cluster.
    if (vaultAddress) await set("vault-eso-platform:vaultAddress", vaultAddress);
    if (kubernetesHost) {
        await set("vault-eso-platform:kubernetesHost", kubernetesHost);
        // Multi-line PEM: config set reads it fine from argv.
        await set("vault-eso-platform:kubernetesCaCert", fs.readFileSync(path.join(p.certs, "ca.crt"), "utf8"));
    }
    await set("vault-eso-platform:esoChartPath", p.esoChart);
    await set("kubernetes:kubeconfig", p.kubeconfig);
    await set("vault-eso-platform:registryPassword", registryPassword, true);
    for (const [k, v] of Object.entries(extraConfig)) await set(k, v);
}

/**
 * `pulumi stack init` with the passphrase provider writes `encryptionsalt` into the project's
 * Pulumi.<stack>.yaml, and takes no --config-file. To keep the checkout untouched, init the stack
 * from a copy of the project file in the data dir (same backend, same project name) and put the
 * salt into `cfgFile`, the config file every later command is given.
 */
export async function initStackOutsideCheckout(dir, { projectDir = repoRoot, stack, cfgFile, env }) {
    const shadow = path.join(dir, `project-${stack}`);
    fs.mkdirSync(shadow, { recursive: true });
    fs.copyFileSync(path.join(projectDir, "Pulumi.yaml"), path.join(shadow, "Pulumi.yaml"));
    await pulumiOk(dir, ["-C", shadow, "stack", "init", stack, "--secrets-provider", "passphrase"], { env });
    const salt = (fs.readFileSync(path.join(shadow, `Pulumi.${stack}.yaml`), "utf8").match(/^encryptionsalt:.*$/m) ?? [])[0];
    if (!salt) throw new Error(`pulumi stack init ${stack} wrote no encryptionsalt`);
    const cfg = fs.existsSync(cfgFile) ? fs.readFileSync(cfgFile, "utf8").replace(/^encryptionsalt:.*\n?/m, "") : "config: {}\n";
    fs.writeFileSync(cfgFile, `${salt}\n${cfg}`);
}


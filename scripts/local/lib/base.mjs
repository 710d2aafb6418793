// Where things are: the repo, the data dir layout of a local run, its state.json, the tools cache.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const STACK = "local";
/** Test-only passphrase of the local stack (matches encryptionsalt in Pulumi.local.yaml). */
export const PASSPHRASE = createRequire(import.meta.url)("../passphrase.cjs");

export function defaultDataDir() {
    const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
    return path.join(cache, "vault-eso-platform", "local");
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function log(...a) {
    console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
}

/** Absolute path of a tool (binary or copied dir) from the tools cache, or a clear error. */
export function toolPath(name) {
    // Override per tool, e.g. KUBE_APISERVER_BIN=/path/to/kube-apiserver (like BAO_BIN in test/support).
    const override = process.env[`${name.toUpperCase().replace(/-/g, "_")}_BIN`];
    if (override) return override;
    try {
        const out = execFileSync(process.execPath, [path.join(repoRoot, "tools", "run.mjs"), "--path", name], {
            cwd: repoRoot,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        }).trim();
        if (out && fs.existsSync(out)) return out;
    } catch {
        /* below */
    }
    // The stable symlinks of the cache (a wrapper edited after its build changes its hash, and
    // --path then refuses the existing build): bin/<name>, or the newest <wrapper>-<hash>/share/<name>.
    const cache = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "vault-eso-platform", "tools");
    const bin = path.join(cache, "bin", name);
    if (fs.existsSync(bin)) return fs.realpathSync(bin);
    try {
        const shares = fs
            .readdirSync(cache)
            .filter((e) => !e.includes(".tmp-"))
            .map((e) => path.join(cache, e, "share", name))
            .filter((p) => fs.existsSync(p))
            .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
        if (shares.length) return shares[0];
    } catch {
        /* no cache */
    }
    throw new Error(`tool "${name}" is not built: \`node tools/run.mjs --path ${name}\` failed (build it with \`npm run tools\`)`);
}


export async function freePorts(n) {
    const servers = [];
    const ports = [];
    for (let i = 0; i < n; i++) {
        const s = net.createServer();
        await new Promise((res, rej) => {
            s.once("error", rej);
            s.listen(0, "127.0.0.1", res);
        });
        servers.push(s);
        ports.push(s.address().port);
    }
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    return ports;
}

export function paths(dir) {
    return {
        dir,
        certs: path.join(dir, "certs"),
        logs: path.join(dir, "logs"),
        pids: path.join(dir, "pids"),
        etcd: path.join(dir, "etcd"),
        bao: path.join(dir, "bao"),
        state: path.join(dir, "state"),
        stateJson: path.join(dir, "state.json"),
        kubeconfig: path.join(dir, "kubeconfig"),
        esoKubeconfig: path.join(dir, "kubeconfig-external-secrets"),
        stackConfig: path.join(dir, `Pulumi.${STACK}.yaml`),
        esoChart: path.join(dir, "external-secrets-chart"),
    };
}

export function readState(dir) {
    return JSON.parse(fs.readFileSync(paths(dir).stateJson, "utf8"));
}


/** Fresh ports for every daemon, recorded in state.json. */
export async function allocateState(dir) {
    const [apiPort, etcdPort, etcdPeerPort, etcdMetricsPort, kcmPort, baoPort, baoClusterPort] = await freePorts(7);
    const st = { apiPort, etcdPort, etcdPeerPort, etcdMetricsPort, kcmPort, baoPort, baoClusterPort, created: new Date().toISOString() };
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(paths(dir).stateJson, JSON.stringify(st, null, 2));
    return st;
}

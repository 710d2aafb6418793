// OpenBao as a host process (external mode), and a plain API helper for assertions.
import * as fs from "node:fs";
import * as path from "node:path";
import { paths, readState, toolPath } from "./base.mjs";
import { ensureAlive, startDaemon, stopDaemon, waitFor } from "./process.mjs";

/**
 * OpenBao with single-node raft storage (2.x has no "file" backend), uninitialised, not dev mode.
 * `extraHcl`: more server configuration (e.g. a `seal "transit"` stanza), kept for later restarts;
 * `env`: more environment (e.g. BAO_TOKEN for that seal, never written into the HCL).
 */
export async function startBao(dir, st, { extraHcl, env = {} } = {}) {
    const p = paths(dir);
    fs.mkdirSync(path.join(p.bao, "data"), { recursive: true, mode: 0o700 });
    const addr = `http://127.0.0.1:${st.baoPort}`;
    const hcl =
        // performance_multiplier 1: Raft's production timing (Vault's and OpenBao's docs recommend it);
        // the default (5) leaves a single node a follower for ~5 s after every init and unseal.
        `storage "raft" {\n  path = "${path.join(p.bao, "data")}"\n  node_id = "local"\n  performance_multiplier = 1\n}\n` +
        // Unauthenticated sys/generate-root (off by default since OpenBao 2.5.3): the init/unseal provider
        // recovers a lost admin token with the unseal keys through it (README "Who holds what").
        `listener "tcp" {\n  address = "127.0.0.1:${st.baoPort}"\n  cluster_address = "127.0.0.1:${st.baoClusterPort}"\n  tls_disable = true\n  disable_unauthed_generate_root_endpoints = false\n}\n` +
        // OpenBao 2.x refuses audit devices through the API: declare one here, as a real server would.
        `audit "file" "local" {\n  options {\n    file_path = "${path.join(p.bao, "audit.log")}"\n  }\n}\n` +
        `api_addr = "${addr}"\ncluster_addr = "http://127.0.0.1:${st.baoClusterPort}"\nui = false\nlog_level = "info"\n`;
    const extraFile = path.join(p.bao, "extra.hcl");
    if (extraHcl !== undefined) fs.writeFileSync(extraFile, extraHcl);
    const extra = fs.existsSync(extraFile) ? fs.readFileSync(extraFile, "utf8") : "";
    fs.writeFileSync(path.join(p.bao, "config.hcl"), hcl + extra);
    startDaemon(dir, "bao", toolPath("bao"), ["server", `-config=${path.join(p.bao, "config.hcl")}`], {
        env: { ...process.env, ...env, HOME: p.bao },
        cwd: p.bao,
    });
    await waitFor("OpenBao seal-status", async () => (await fetch(`${addr}/v1/sys/seal-status`)).status === 200, {
        timeoutMs: 60000,
        intervalMs: 200,
        check: ensureAlive(dir, ["bao"]),
    });
    return addr;
}

export async function restartBao(dir, opts) {
    await stopDaemon(dir, "bao");
    return startBao(dir, readState(dir), opts);
}

/** A new, uninitialised OpenBao at the same address: its data (and any extra config) removed. */
export async function wipeBao(dir) {
    await stopDaemon(dir, "bao");
    fs.rmSync(paths(dir).bao, { recursive: true, force: true });
    return startBao(dir, readState(dir));
}

/** Plain OpenBao API call for assertions; the token (if any) is only sent, never logged. */
export async function bao(dir, method, apiPath, body, token) {
    return baoApi(`http://127.0.0.1:${readState(dir).baoPort}`, method, apiPath, body, token);
}

/** One call to an OpenBao/Vault API at `address`: { status, json } (json { raw } if not JSON). */
export async function baoApi(address, method, apiPath, body, token) {
    const headers = {};
    if (token) headers["X-Vault-Token"] = token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(`${address}/v1/${apiPath}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json;
    try {
        json = text ? JSON.parse(text) : {};
    } catch {
        json = { raw: text };
    }
    return { status: r.status, json };
}


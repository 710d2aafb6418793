// A second OpenBao as the transit seal server of the auto-unseal drills: raft storage in the data
// dir, initialised once (its own key and root token stay in <dir>/seal-server/keys.json, 0600),
// the transit engine with one key, and a token whose policy allows only encrypt and decrypt with
// that key. It binds `host` (the node IP in the cluster tier, where pods reach it; loopback in the
// engine tier). Stopping and starting it again is the "seal server down and back" drill.
import * as fs from "node:fs";
import * as path from "node:path";
import { freePorts, toolPath } from "./base.mjs";
import { baoApi } from "./openbao.mjs";
import { ensureAlive, startDaemon, stopDaemon, waitFor } from "./process.mjs";

export const SEAL_KEY = "autounseal";
export const SEAL_MOUNT = "transit/";
const NAME = "seal-server";

const sealDir = (dir) => path.join(dir, NAME);
const stateFile = (dir) => path.join(sealDir(dir), "keys.json");

async function api(address, method, apiPath, body, token) {
    const { status, json } = await baoApi(address, method, apiPath, body, token);
    if (status >= 400) throw new Error(`seal server ${method} ${apiPath}: HTTP ${status} ${JSON.stringify(json.errors ?? "")}`);
    return json;
}

function readState(dir) {
    return fs.existsSync(stateFile(dir)) ? JSON.parse(fs.readFileSync(stateFile(dir), "utf8")) : undefined;
}

/** Starts (or restarts) the seal server and unseals it; the first start also initialises it. Returns { address, token }. */
export async function startSealServer(dir, { host = "127.0.0.1" } = {}) {
    const d = sealDir(dir);
    fs.mkdirSync(path.join(d, "data"), { recursive: true, mode: 0o700 });
    let st = readState(dir);
    if (!st) {
        const [port, clusterPort] = await freePorts(2);
        st = { host, port, clusterPort };
    }
    const address = `http://${st.host}:${st.port}`;
    fs.writeFileSync(
        path.join(d, "config.hcl"),
        `storage "raft" {\n  path = "${path.join(d, "data")}"\n  node_id = "seal"\n  performance_multiplier = 1\n}\n` +
            `listener "tcp" {\n  address = "${st.host}:${st.port}"\n  cluster_address = "127.0.0.1:${st.clusterPort}"\n  tls_disable = true\n}\n` +
            `api_addr = "${address}"\ncluster_addr = "http://127.0.0.1:${st.clusterPort}"\nui = false\n`,
    );
    startDaemon(dir, NAME, toolPath("bao"), ["server", `-config=${path.join(d, "config.hcl")}`], { env: { ...process.env, HOME: d }, cwd: d });
    await waitFor("seal server answering", async () => (await fetch(`${address}/v1/sys/seal-status`).catch(() => undefined))?.status === 200, {
        timeoutMs: 60000,
        intervalMs: 200,
        check: ensureAlive(dir, [NAME]),
    });
    if (!st.unsealKey) {
        const init = await api(address, "PUT", "sys/init", { secret_shares: 1, secret_threshold: 1 });
        st = { ...st, unsealKey: init.keys_base64[0], rootToken: init.root_token };
        fs.writeFileSync(stateFile(dir), JSON.stringify(st), { mode: 0o600 });
    }
    await api(address, "PUT", "sys/unseal", { key: st.unsealKey });
    await waitFor("seal server active", async () => (await fetch(`${address}/v1/sys/health`).catch(() => undefined))?.status === 200, { timeoutMs: 30000, intervalMs: 200 });
    if (!st.token) {
        const root = st.rootToken;
        await api(address, "POST", `sys/mounts/${SEAL_MOUNT.replace(/\/$/, "")}`, { type: "transit" }, root);
        await api(address, "POST", `transit/keys/${SEAL_KEY}`, {}, root);
        const policy = `path "transit/encrypt/${SEAL_KEY}" {\n  capabilities = ["update"]\n}\npath "transit/decrypt/${SEAL_KEY}" {\n  capabilities = ["update"]\n}\n`;
        await api(address, "PUT", "sys/policies/acl/autounseal", { policy }, root);
        // Only this policy (no default policy: not even lookup-self); the seal stanza sets disable_renewal.
        const tok = await api(address, "POST", "auth/token/create-orphan", { policies: ["autounseal"], no_default_policy: true, ttl: "720h", display_name: "autounseal" }, root);
        st = { ...st, token: tok.auth.client_token };
        fs.writeFileSync(stateFile(dir), JSON.stringify(st), { mode: 0o600 });
    }
    return { address, token: st.token };
}

export async function stopSealServer(dir) {
    await stopDaemon(dir, NAME);
}

/** The `vaultSeal` config for this server (credentials from the Secret `secretName`). */
export function transitSealConfig(address, secretName) {
    return { type: "transit", address, keyName: SEAL_KEY, mountPath: SEAL_MOUNT, disableRenewal: true, credentialsSecret: secretName };
}

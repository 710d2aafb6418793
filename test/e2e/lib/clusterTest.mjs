// What the cluster tier's checks use to look at a running one-node cluster (scripts/local/lib/cluster.mjs):
// the API server, Vault's HTTP API on a pod's IP (this host sits on the node bridge), the pulumi
// CLI on the stack, the apiserver's audit log, host processes and sockets. Secrets stay in memory.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Kube, STACK, nodePaths, paths, pulumi, pulumiOk, toolPath } from "../../../scripts/local/lib.mjs";
import { assert, condition, decodeData, eq } from "./assertions.mjs";
import { APP_NS, DECLARED, KV, REGISTRY_SECRET, VAULT_NS } from "./stack.mjs";

export const isReady = (p) => condition(p, "Ready")?.status === "True";
export const isRunning = (p) => p?.status?.phase === "Running" && (p.status.containerStatuses ?? []).every((c) => c.state?.running);
export const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;

/**
 * One cluster under test. `release`: the Vault chart's release name, so its pods are `<release>-<i>`
 * ("vault" for vault-helm, "openbao" for the openbao chart).
 */
export class ClusterTest {
    constructor(dir, { registryPassword, release = "vault", timings = {} }) {
        Object.assign(this, { dir, registryPassword, release, timings, env: undefined, cachedAdminToken: undefined });
    }

    podName(i = 0) {
        return `${this.release}-${i}`;
    }
    podNames(n) {
        return Array.from({ length: n }, (_, i) => this.podName(i));
    }
    kube() {
        return Kube.admin(this.dir);
    }
    P(args, opts = {}) {
        return pulumi(this.dir, args, { env: this.env, ...opts });
    }
    POk(args, opts = {}) {
        return pulumiOk(this.dir, args, { env: this.env, ...opts });
    }
    async stackOutputSecret(name) {
        return JSON.parse((await this.POk(["stack", "output", name, "--show-secrets", "--json", "--stack", STACK])).stdout);
    }
    async pod(ns, name) {
        const r = await this.kube().get(`/api/v1/namespaces/${ns}/pods/${name}`);
        return r.status === 200 ? r.json : undefined;
    }
    async deletePod(ns, name) {
        const r = await this.kube().request("DELETE", `/api/v1/namespaces/${ns}/pods/${name}`, { gracePeriodSeconds: 0 });
        assert(r.status === 200 || r.status === 202, `delete pod ${ns}/${name}: HTTP ${r.status}`);
    }

    /** Vault's HTTP API on the pod's IP. */
    async vault(method, apiPath, body, token, podName = this.podName(0)) {
        const p = await this.pod(VAULT_NS, podName);
        assert(p?.status?.podIP, `${podName} has no pod IP`);
        const headers = { "Content-Type": "application/json" };
        if (token) headers["X-Vault-Token"] = token;
        const r = await fetch(`http://${p.status.podIP}:8200/v1/${apiPath}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        const text = await r.text();
        let json;
        try {
            json = text ? JSON.parse(text) : undefined;
        } catch {
            json = undefined;
        }
        return { status: r.status, json };
    }
    async health(podName = this.podName(0)) {
        return (await this.vault("GET", "sys/health?standbyok=true&sealedcode=200&uninitcode=200", undefined, undefined, podName)).json;
    }
    async adminToken() {
        if (!this.cachedAdminToken) this.cachedAdminToken = await this.stackOutputSecret("vaultAdminToken");
        return this.cachedAdminToken;
    }
    async kvData(p, podName) {
        const r = await this.vault("GET", `${KV}/data/${p}`, undefined, await this.adminToken(), podName);
        assert(r.status === 200, `GET ${KV}/data/${p}: HTTP ${r.status}`);
        return r.json.data.data;
    }
    async kvWrite(p, data, podName) {
        const r = await this.vault("POST", `${KV}/data/${p}`, { data }, await this.adminToken(), podName);
        assert(r.status === 200, `POST ${KV}/data/${p}: HTTP ${r.status}`);
    }
    async secretOf(name) {
        return decodeData((await this.kube().get(`/api/v1/namespaces/${APP_NS}/secrets/${name}`)).json ?? {});
    }

    /** Every ExternalSecret Ready and every target Secret equal to Vault. */
    async assertSynced() {
        const list = (await this.kube().get(`/apis/external-secrets.io/v1/namespaces/${APP_NS}/externalsecrets`)).json?.items ?? [];
        eq(list.map((i) => i.metadata.name).sort(), [...DECLARED.map((d) => d.name), REGISTRY_SECRET.name].sort(), "ExternalSecrets");
        for (const es of list) {
            const c = condition(es, "Ready");
            assert(c?.status === "True" && c.reason === "SecretSynced", `ExternalSecret ${es.metadata.name}: Ready=${c?.status} ${c?.reason} ${c?.message ?? ""}`);
        }
        for (const d of DECLARED) {
            const got = await this.secretOf(d.name);
            const kv = await this.kvData(d.path);
            for (const k of d.keys) assert(got[k] && got[k] === kv[k], `Secret ${d.name}.${k} differs from Vault ${KV}/${d.path}`);
        }
    }

    /** The demo pod (one replica); `not`: a pod name to ignore (the one just deleted). */
    async demoPod(not) {
        const items = (await this.kube().get(`/api/v1/namespaces/${APP_NS}/pods?labelSelector=app%3Dgo-sample`)).json?.items ?? [];
        return items.find((p) => p.metadata.name !== not && !p.metadata.deletionTimestamp);
    }

    /** Watches a pod while `during` runs: samples of { running, ready }. */
    async watchPod(ns, name, during) {
        const samples = [];
        let done = false;
        const poll = (async () => {
            while (!done) {
                const p = await this.pod(ns, name).catch(() => undefined);
                if (p) samples.push({ t: Date.now(), uid: p.metadata.uid, running: isRunning(p), ready: isReady(p) });
                await new Promise((r) => setTimeout(r, 250));
            }
        })();
        try {
            return { result: await during(), samples };
        } finally {
            done = true;
            await poll;
        }
    }

    /** Port-forward requests to a pod in the apiserver's audit log (cluster.mjs turns it on). */
    portForwards(podName) {
        const file = path.join(paths(this.dir).logs, "apiserver-audit.log");
        if (!fs.existsSync(file)) return [];
        return fs
            .readFileSync(file, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l))
            .filter((e) => e.objectRef?.subresource === "portforward" && e.objectRef?.name === podName && e.stage === "ResponseStarted");
    }

    /** A root token from the unseal keys (`operator generate-root`), as an operator would; revoke it after use. */
    async generateRoot(podName, keys) {
        const cur = await this.vault("GET", "sys/generate-root/attempt", undefined, undefined, podName);
        if (cur.json?.started) await this.vault("DELETE", "sys/generate-root/attempt", undefined, undefined, podName);
        const start = await this.vault("PUT", "sys/generate-root/attempt", {}, undefined, podName);
        assert(start.status === 200, `generate-root attempt: HTTP ${start.status}`);
        const { nonce, otp, required } = start.json;
        for (const key of keys.slice(0, required)) {
            const r = await this.vault("PUT", "sys/generate-root/update", { key, nonce }, undefined, podName);
            if (r.json?.complete) {
                const enc = Buffer.from(r.json.encoded_token, "base64");
                return Buffer.from(enc.map((b, n) => b ^ otp.charCodeAt(n))).toString("utf8");
            }
        }
        throw new Error("generate-root did not complete");
    }

    ctr(args) {
        return execFileSync(toolPath("ctr"), ["--address", nodePaths(this.dir).containerdSock, "-n", "k8s.io", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    }

    /** Processes named `names` that do not run under a containerd shim (host processes). */
    static hostProcessesNamed(names) {
        const found = [];
        for (const pid of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
            let exe;
            try {
                exe = path.basename(fs.readlinkSync(`/proc/${pid}/exe`));
            } catch {
                continue;
            }
            if (!names.includes(exe)) continue;
            let p = pid;
            let underShim = false;
            for (let i = 0; i < 20 && p && p !== "1"; i++) {
                try {
                    if (fs.readlinkSync(`/proc/${p}/exe`).endsWith("containerd-shim-runc-v2")) underShim = true;
                    p = fs.readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ")[1];
                } catch {
                    break;
                }
            }
            if (!underShim) found.push(`${pid} ${exe}`);
        }
        return found;
    }

    /** TCP/UDP listeners in the host network namespace of the cluster's daemons and the program's processes. */
    ourListeners() {
        // Our daemons and everything below them or below this test (pulumi, its plugins, the tunnel host).
        const parent = new Map();
        for (const pid of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
            try {
                parent.set(pid, fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1]);
            } catch {
                /* gone */
            }
        }
        const pidsDir = paths(this.dir).pids;
        const roots = new Set([String(process.pid), ...fs.readdirSync(pidsDir).map((f) => fs.readFileSync(path.join(pidsDir, f), "utf8").trim())]);
        const ours = (pid) => {
            for (let p = pid, i = 0; p && p !== "0" && i < 64; p = parent.get(p), i++) if (roots.has(p)) return true;
            return false;
        };
        const out = execFileSync("ss", ["-lntupH"], { encoding: "utf8" });
        const found = [];
        for (const line of out.split("\n").filter(Boolean)) {
            const addr = line.trim().split(/\s+/)[4];
            for (const [, name, pid] of line.matchAll(/\("([^"]+)",pid=(\d+)/g)) {
                if (ours(pid)) found.push({ name, pid, addr: addr.replace(/%\S+:/, ":") });
            }
        }
        return found;
    }
}

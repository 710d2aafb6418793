// Real OpenBao (or HashiCorp Vault, see servers.ts) servers for tests: raft or file storage in a
// temp dir (starts sealed and uninitialised), optional transit auto-unseal, stop/restart keeping
// data, cleanup.
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type { ServerFlavor } from "./servers";

const repoRoot = path.resolve(__dirname, "..", "..");

/**
 * Absolute path of the `bao` binary: BAO_BIN if set (the provider project's globalSetup sets it
 * after provisioning OpenBao through the tools runner), else `node tools/run.mjs --path bao`.
 */
export function baoBinary(): string {
    const fromEnv = process.env.BAO_BIN;
    if (fromEnv) {
        try {
            fs.accessSync(fromEnv, fs.constants.X_OK);
        } catch (e) {
            throw new Error(`BAO_BIN=${fromEnv} is not an executable file (${(e as NodeJS.ErrnoException).code}): point it at a bao (or vault) binary, or unset it to use the one \`node tools/run.mjs openbao\` provisions.`);
        }
        return fromEnv;
    }
    try {
        const out = execFileSync(process.execPath, [path.join(repoRoot, "tools", "run.mjs"), "--path", "bao"], {
            cwd: repoRoot,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        }).trim();
        if (out && fs.existsSync(out)) {
            return out;
        }
    } catch {
        // fall through to the clear message below
    }
    throw new Error("OpenBao binary not found: `node tools/run.mjs --path bao` failed. Build it with `npm run tools -- openbao` (or set BAO_BIN).");
}

/**
 * Waits for every start-up step, then rethrows the first failure. Unlike Promise.all it never
 * returns while a server is still starting, so the suite's afterAll sees (and stops) everything
 * that did start: a failed beforeAll leaves no process, listener or temp dir behind.
 */
export async function settleAll(steps: Promise<unknown>[]): Promise<void> {
    const failed = (await Promise.allSettled(steps)).find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
        throw failed.reason;
    }
}

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

export interface TransitSeal {
    address: string;
    token: string;
    keyName: string;
    mountPath: string;
}

/** PEM material for an HTTPS listener; the certificate is valid for `serverName` only (not 127.0.0.1). */
export interface TestTls {
    ca: string;
    cert: string;
    key: string;
    serverName: string;
}

/** A throwaway CA and a server certificate for `serverName` (openssl CLI, ECDSA P-256). */
export function makeTestTls(serverName: string): TestTls {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bao-tls-"));
    const f = (n: string) => path.join(dir, n);
    const ossl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    try {
        ossl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "1", "-subj", "/CN=test-ca"]);
        ossl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("key.pem"), "-out", f("csr.pem"), "-subj", `/CN=${serverName}`]);
        fs.writeFileSync(f("ext.cnf"), `subjectAltName=DNS:${serverName}\n`);
        ossl(["x509", "-req", "-in", f("csr.pem"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("cert.pem"), "-days", "1", "-extfile", f("ext.cnf")]);
        const read = (n: string) => fs.readFileSync(f(n), "utf8");
        return { ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem"), serverName };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

export interface BaoOptions {
    nodeId?: string;
    tls?: TestTls;
    transit?: TransitSeal;
    /** The transit stanza marked `disabled`: migrate back from it to Shamir keys. */
    transitDisabled?: boolean;
    /** -dev mode (unsealed, root token "root"); only for helpers such as the transit key holder. */
    dev?: boolean;
    /** Which server to run (servers.ts); default OpenBao. */
    flavor?: ServerFlavor;
}

export class BaoServer {
    public readonly address: string;
    public output = "";
    /** The file audit device's log (one JSON line per request and response). */
    public get auditLog(): string {
        return path.join(this.dir, "audit.log");
    }
    private proc?: ChildProcess;

    private constructor(
        public readonly port: number,
        private readonly clusterPort: number,
        public readonly dir: string,
        private readonly opts: BaoOptions,
    ) {
        this.address = `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`;
    }

    static async start(opts: BaoOptions = {}): Promise<BaoServer> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bao-test-"));
        const s = new BaoServer(await freePort(), await freePort(), dir, opts);
        s.writeConfig();
        try {
            await s.start();
        } catch (e) {
            await s.cleanup();
            throw e;
        }
        return s;
    }

    private writeConfig(): void {
        const o = this.opts;
        const data = path.join(this.dir, "data");
        fs.mkdirSync(data, { recursive: true });
        // OpenBao 2.x has no "file" storage: each of its servers is (single- or multi-node) raft.
        // Vault's standalone servers use "file" like the dev stack's chart; its raft nodes, raft.
        // performance_multiplier 1 = production-speed elections, so tests do not wait for leadership.
        const raft = o.nodeId !== undefined || (o.flavor?.standaloneStorage ?? "raft") === "raft";
        let storage = raft
            ? `storage "raft" {\n  path = "${data}"\n  node_id = "${o.nodeId ?? `node-${this.port}`}"\n  performance_multiplier = 1\n}\n`
            : `storage "file" {\n  path = "${data}"\n}\n`;
        storage += `cluster_addr = "http://127.0.0.1:${this.clusterPort}"\n`;
        if (o.flavor?.kind === "vault") {
            // Vault still mlocks by default (OpenBao 2.x dropped mlock); raft's mmap'd files must not be locked.
            storage += "disable_mlock = true\n";
        }
        const seal = o.transit
            ? `seal "transit" {\n  address = "${o.transit.address}"\n  token = "${o.transit.token}"\n  key_name = "${o.transit.keyName}"\n  mount_path = "${o.transit.mountPath}"\n  disable_renewal = "true"\n${o.transitDisabled ? '  disabled = "true"\n' : ""}}\n`
            : "";
        let tls = "  tls_disable = true\n";
        if (o.tls) {
            fs.writeFileSync(path.join(this.dir, "cert.pem"), o.tls.cert);
            fs.writeFileSync(path.join(this.dir, "key.pem"), o.tls.key);
            tls = `  tls_cert_file = "${path.join(this.dir, "cert.pem")}"\n  tls_key_file = "${path.join(this.dir, "key.pem")}"\n`;
        }
        // sys/generate-root recovers a lost admin token with the keys; OpenBao >= 2.5.3 turns the
        // unauthenticated endpoints off unless the listener allows them. A file audit device (OpenBao
        // refuses API-enabled ones) records every request, generate-root included.
        // HashiCorp Vault 1.21 has neither option: it warns "unknown or unsupported field" for the
        // listener one (its unauthenticated generate-root endpoints are always on) and silently
        // ignores the audit stanza, so its audit device is enabled through the API (`enableAudit`).
        const bao = o.flavor?.kind !== "vault";
        const hcl =
            `listener "tcp" {\n  address = "127.0.0.1:${this.port}"\n  cluster_address = "127.0.0.1:${this.clusterPort}"\n${tls}` +
            (bao ? "  disable_unauthed_generate_root_endpoints = false\n" : "") +
            "}\n" +
            (bao ? `audit "file" "file" {\n  options {\n    file_path = "${this.auditLog}"\n  }\n}\n` : "") +
            `${storage}${seal}api_addr = "${this.address}"\nui = false\nlog_level = "info"\n`;
        fs.writeFileSync(path.join(this.dir, "config.hcl"), hcl);
    }

    /** Starts (or restarts) the process; with real storage it comes up sealed. */
    async start(): Promise<void> {
        const args = this.opts.dev
            ? ["server", "-dev", "-dev-root-token-id=root", `-dev-listen-address=127.0.0.1:${this.port}`]
            : ["server", `-config=${path.join(this.dir, "config.hcl")}`];
        const bin = this.binary;
        const proc = spawn(bin, args, { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, HOME: this.dir } });
        this.proc = proc;
        // Without a listener a failed spawn (ENOENT, EACCES) is an uncaught exception that kills the test file.
        let spawnError: Error | undefined;
        proc.once("error", (e) => (spawnError = e));
        proc.stdout?.on("data", (d) => (this.output += d.toString()));
        proc.stderr?.on("data", (d) => (this.output += d.toString()));
        const deadline = Date.now() + 30000;
        while (Date.now() < deadline) {
            if (spawnError) {
                this.proc = undefined;
                throw new Error(`cannot start ${bin}: ${spawnError.message}`);
            }
            if (proc.exitCode !== null || proc.signalCode !== null) {
                this.proc = undefined;
                throw new Error(`${this.name} exited with ${proc.exitCode ?? proc.signalCode}:\n${this.output.slice(-3000)}`);
            }
            try {
                await this.api("GET", "sys/seal-status");
                return;
            } catch {
                await new Promise((r) => setTimeout(r, 100));
            }
        }
        await this.stop();
        throw new Error(`${this.name} did not answer on ${this.address} within 30s:\n${this.output.slice(-3000)}`);
    }

    /**
     * Makes sure the file audit device writing `auditLog` is on. OpenBao declares it in the config
     * (nothing to do); HashiCorp Vault ignores that stanza, so on Vault it is enabled through the API
     * (`PUT sys/audit/file`, needs a root token) once the server is initialised and unsealed. Audit
     * devices live in storage, so this survives restarts. Returns whether it enabled one now.
     */
    async enableAudit(rootToken: string): Promise<boolean> {
        if (this.opts.flavor?.kind !== "vault") {
            return false;
        }
        const list = await this.api("GET", "sys/audit", undefined, rootToken);
        if (list.status === 200 && (list.json?.data?.["file/"] ?? list.json?.["file/"])) {
            return false;
        }
        const r = await this.api("PUT", "sys/audit/file", { type: "file", options: { file_path: this.auditLog } }, rootToken);
        if (r.status >= 300) {
            throw new Error(`${this.name}: enabling the file audit device failed: ${r.status} ${JSON.stringify(r.json)}`);
        }
        return true;
    }

    /** The server binary: the flavor's, else OpenBao's. */
    private get binary(): string {
        return this.opts.flavor ? this.opts.flavor.binary() : baoBinary();
    }

    private get name(): string {
        return this.opts.flavor?.label ?? "OpenBao";
    }

    async stop(): Promise<void> {
        const p = this.proc;
        this.proc = undefined;
        if (!p || p.exitCode !== null || p.signalCode !== null) {
            return;
        }
        const exited = new Promise<void>((r) => p.once("exit", () => r()));
        p.kill("SIGTERM");
        const timer = setTimeout(() => p.kill("SIGKILL"), 10000);
        await exited;
        clearTimeout(timer);
    }

    /** A new seal configuration, effective at the restart that follows (as a changed chart ConfigMap). */
    async reconfigure(change: Pick<BaoOptions, "transit" | "transitDisabled">): Promise<void> {
        Object.assign(this.opts, change);
        this.writeConfig();
        await this.restart();
    }

    /** Restart keeping the data: the server is sealed again afterwards. */
    async restart(): Promise<void> {
        await this.stop();
        await this.start();
    }

    async cleanup(): Promise<void> {
        await this.stop();
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    /** Plain API call for assertions (the code under test uses its own client). */
    async api(method: string, apiPath: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
        const headers: Record<string, string> = {};
        if (token) {
            headers["X-Vault-Token"] = token;
        }
        if (body !== undefined) {
            headers["Content-Type"] = "application/json";
        }
        const tls = this.opts.tls;
        const mod = tls ? https : http;
        const opts = { method, headers, agent: false as const, ...(tls ? { ca: tls.ca, servername: tls.serverName, checkServerIdentity: () => undefined } : {}) };
        return new Promise((resolve, reject) => {
            const req = mod.request(`${this.address}/v1/${apiPath}`, opts, (res) => {
                let text = "";
                res.on("data", (d) => (text += d));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} }));
            });
            req.on("error", reject);
            req.end(body === undefined ? undefined : JSON.stringify(body));
        });
    }
}

/**
 * Writes a KV v2 entry on a mount just enabled. A new KV v2 mount upgrades its storage first and
 * answers 400 ("upgrading ... will resume service shortly") until done, longer on raft under load,
 * so the write is retried on that answer only (30 s); any other answer is returned as is.
 */
export async function kvWriteWhenReady(server: BaoServer, apiPath: string, data: Record<string, string>, token: string): Promise<{ status: number; json: any }> {
    const deadline = Date.now() + 30000;
    for (;;) {
        const r = await server.api("POST", apiPath, { data }, token);
        const upgrading = r.status === 400 && /upgrad/i.test(JSON.stringify(r.json?.errors ?? ""));
        if (!upgrading || Date.now() > deadline) return r;
        await new Promise((res) => setTimeout(res, 200));
    }
}

/**
 * A root token from the key quorum through sys/generate-root (OTP), for assertions only; the
 * caller revokes it when done. Needs `disable_unauthed_generate_root_endpoints = false` on OpenBao
 * (set above); HashiCorp Vault allows the unauthenticated endpoints unconditionally.
 */
export async function generateRootToken(server: BaoServer, keys: string[]): Promise<string> {
    const cur = await server.api("GET", "sys/generate-root/attempt");
    if (cur.json?.started) await server.api("DELETE", "sys/generate-root/attempt");
    const start = await server.api("PUT", "sys/generate-root/attempt", {});
    if (start.status !== 200) throw new Error(`generate-root attempt: ${start.status} ${JSON.stringify(start.json)}`);
    const { nonce, otp, required } = start.json as { nonce: string; otp: string; required: number };
    for (const key of keys.slice(0, required)) {
        const r = await server.api("PUT", "sys/generate-root/update", { key, nonce });
        if (r.json?.complete) {
            const enc = Buffer.from(r.json.encoded_token as string, "base64");
            return Buffer.from(enc.map((b, n) => b ^ otp.charCodeAt(n))).toString("utf8");
        }
    }
    throw new Error("generate-root did not complete");
}

/** Live tokens carrying the root policy (via the accessor list; needs a root token). */
export async function liveRootTokens(server: BaoServer, root: string): Promise<string[]> {
    const list = await server.api("GET", "auth/token/accessors?list=true", undefined, root);
    const out: string[] = [];
    for (const accessor of (list.json?.data?.keys ?? []) as string[]) {
        const r = await server.api("POST", "auth/token/lookup-accessor", { accessor }, root);
        if ((r.json?.data?.policies ?? []).includes("root")) out.push(accessor);
    }
    return out;
}

/** Audit log entries (requests only), as { path, policies, displayName }. */
export function auditRequests(server: BaoServer): { path: string; policies?: string[]; displayName?: string; error?: string }[] {
    if (!fs.existsSync(server.auditLog)) return [];
    return fs
        .readFileSync(server.auditLog, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l))
        .filter((e) => e.type === "request")
        .map((e) => ({ path: e.request?.path, policies: e.auth?.policies, displayName: e.auth?.display_name, error: e.error }));
}

/** A -dev server (of the given flavor, default OpenBao) holding a transit key, for transit auto-unseal of another server. */
export async function startTransitKeyHolder(flavor?: ServerFlavor): Promise<{ server: BaoServer; seal: TransitSeal }> {
    const server = await BaoServer.start({ dev: true, flavor });
    const ok = async (p: Promise<{ status: number; json: unknown }>) => {
        const r = await p;
        if (r.status >= 300) {
            throw new Error(`transit setup failed: ${r.status} ${JSON.stringify(r.json)}`);
        }
    };
    try {
        // Dev mode answers before it is ready; wait for the root token to work.
        const deadline = Date.now() + 20000;
        while ((await server.api("GET", "sys/mounts", undefined, "root")).status !== 200 && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 100));
        }
        await ok(server.api("POST", "sys/mounts/transit", { type: "transit" }, "root"));
        await ok(server.api("POST", "transit/keys/autounseal", {}, "root"));
    } catch (e) {
        await server.cleanup();
        throw e;
    }
    return { server, seal: { address: server.address, token: "root", keyName: "autounseal", mountPath: "transit/" } };
}

// Shared pieces of the local stack (scripts/local/up.mjs), the end-to-end tests (test/e2e/run.mjs)
// and the benchmark (scripts/bench.mjs): a loopback Kubernetes control plane (etcd, kube-apiserver,
// kube-controller-manager; no kubelet, pods never run), an uninitialised OpenBao, the external-secrets
// controller on the host, and the Pulumi CLI with a file:// backend in the data dir.
//
// Everything a run creates lives under one data dir: certs/, logs/, pids/, etcd/, bao/, state/,
// state.json (ports), kubeconfig, Pulumi.local.yaml (the stack config used with --config-file, so
// the committed Pulumi.local.yaml in the checkout is never written to).
import { execFileSync, spawn } from "node:child_process";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const STACK = "local";
/** Test-only passphrase of the local stack (matches encryptionsalt in Pulumi.local.yaml). */
export const PASSPHRASE = createRequire(import.meta.url)("./passphrase.cjs");

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

/** The hermetic Pulumi environment of tools/run.mjs --env, plus the file backend and passphrase. */
export function pulumiEnv(dir, extra = {}) {
    const out = execFileSync("bash", ["-c", `eval "$(${JSON.stringify(process.execPath)} tools/run.mjs --env)" && env -0`], {
        cwd: repoRoot,
        encoding: "utf8",
    });
    const env = {};
    for (const kv of out.split("\0")) {
        const i = kv.indexOf("=");
        if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    // The policy analyzer plugin: the cache's if it has one, else our shim (scripts/local/shims).
    const hasAnalyzer = (env.PATH ?? "").split(":").some((d) => d && fs.existsSync(path.join(d, "pulumi-analyzer-policy")));
    if (!hasAnalyzer) env.PATH = `${env.PATH}:${path.join(repoRoot, "scripts", "local", "shims")}`;
    return {
        ...env,
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        KUBECONFIG: path.join(dir, "kubeconfig"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_SKIP_CONFIRMATIONS: "true",
        // `npm test` already type-checks (tsc --noEmit); ts-node type-checking the program again on
        // every pulumi run costs ~20 s on this machine (scripts/bench.mjs). PULUMI_TYPECHECK=1 restores it.
        PULUMI_NODEJS_TRANSPILE_ONLY: process.env.PULUMI_TYPECHECK === "1" ? "false" : "true",
        ...extra,
    };
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

// ---------------------------------------------------------------- PKI (openssl)

function openssl(cwd, args) {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** CA, apiserver serving cert (127.0.0.1/localhost), admin client cert (system:masters), SA key pair. */
export function makePki(dir) {
    const c = paths(dir).certs;
    fs.mkdirSync(c, { recursive: true, mode: 0o700 });
    openssl(c, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=vault-eso-local-ca", "-keyout", "ca.key", "-out", "ca.crt"]);
    openssl(c, ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver", "-keyout", "apiserver.key", "-out", "apiserver.csr"]);
    fs.writeFileSync(
        path.join(c, "apiserver.ext"),
        "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n",
    );
    openssl(c, ["x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30", "-extfile", "apiserver.ext", "-out", "apiserver.crt"]);
    openssl(c, ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/O=system:masters/CN=local-admin", "-keyout", "admin.key", "-out", "admin.csr"]);
    fs.writeFileSync(path.join(c, "admin.ext"), "extendedKeyUsage=clientAuth\n");
    openssl(c, ["x509", "-req", "-in", "admin.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30", "-extfile", "admin.ext", "-out", "admin.crt"]);
    openssl(c, ["genrsa", "-out", "sa.key", "2048"]);
    openssl(c, ["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
}

export function writeAdminKubeconfig(dir, server) {
    const c = paths(dir).certs;
    const kc = `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "${server}", certificate-authority: "${c}/ca.crt"}
users:
- name: admin
  user: {client-certificate: "${c}/admin.crt", client-key: "${c}/admin.key"}
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
`;
    fs.writeFileSync(paths(dir).kubeconfig, kc, { mode: 0o600 });
}

// ---------------------------------------------------------------- processes

/** Starts a long-running process detached from us (survives this script), logs and pid in the data dir. */
export function startDaemon(dir, name, bin, args, { env = process.env, cwd = dir } = {}) {
    const p = paths(dir);
    fs.mkdirSync(p.logs, { recursive: true });
    fs.mkdirSync(p.pids, { recursive: true });
    const out = fs.openSync(path.join(p.logs, `${name}.log`), "a");
    const child = spawn(bin, args, { cwd, env, detached: true, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    child.unref();
    fs.writeFileSync(path.join(p.pids, `${name}.pid`), String(child.pid));
    return child.pid;
}

export function pidOf(dir, name) {
    try {
        return Number(fs.readFileSync(path.join(paths(dir).pids, `${name}.pid`), "utf8").trim()) || undefined;
    } catch {
        return undefined;
    }
}

export function alive(pid) {
    if (!pid) return false;
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** Stops one daemon by its recorded pid (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopDaemon(dir, name, graceMs = 10000) {
    const pid = pidOf(dir, name);
    if (!alive(pid)) return;
    try {
        process.kill(pid, "SIGTERM");
    } catch {
        return;
    }
    const deadline = Date.now() + graceMs;
    while (alive(pid) && Date.now() < deadline) await sleep(100);
    if (alive(pid)) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            /* gone */
        }
    }
    while (alive(pid)) await sleep(50);
    fs.rmSync(path.join(paths(dir).pids, `${name}.pid`), { force: true });
}

/** Order matters: the supervisor first (it would restart the controller), etcd last. */
export const DAEMONS = ["eso-supervisor", "external-secrets", "bao", "kube-controller-manager", "kube-apiserver", "etcd"];

export async function stopAll(dir) {
    for (const name of DAEMONS) await stopDaemon(dir, name);
}

export async function waitFor(what, fn, { timeoutMs = 60000, intervalMs = 500, check } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
        try {
            const v = await fn();
            if (v) return v;
        } catch (e) {
            last = e;
        }
        if (check) check();
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${last.message}` : ""}`);
        await sleep(intervalMs);
    }
}

function tailLog(dir, name, n = 30) {
    try {
        return fs.readFileSync(path.join(paths(dir).logs, `${name}.log`), "utf8").split("\n").slice(-n).join("\n");
    } catch {
        return "";
    }
}

function ensureAlive(dir, names) {
    return () => {
        for (const n of names) {
            if (!alive(pidOf(dir, n))) throw new Error(`${n} exited; last log lines:\n${tailLog(dir, n)}`);
        }
    };
}

// ---------------------------------------------------------------- Kubernetes API client (no kubectl)

/** Minimal Kubernetes API client: admin client cert, or a bearer token. */
export class Kube {
    constructor({ server, ca, cert, key, token }) {
        const u = new URL(server);
        this.host = u.hostname;
        this.port = Number(u.port);
        this.agent = new https.Agent({ ca, cert, key, keepAlive: false });
        this.bearer = token;
    }

    static admin(dir) {
        const c = paths(dir).certs;
        const st = readState(dir);
        return new Kube({
            server: `https://127.0.0.1:${st.apiPort}`,
            ca: fs.readFileSync(path.join(c, "ca.crt")),
            cert: fs.readFileSync(path.join(c, "admin.crt")),
            key: fs.readFileSync(path.join(c, "admin.key")),
        });
    }

    request(method, p, body, { contentType = "application/json", timeoutMs = 15000 } = {}) {
        return new Promise((resolve, reject) => {
            const headers = { Accept: "application/json" };
            if (this.bearer) headers.Authorization = `Bearer ${this.bearer}`;
            let data;
            if (body !== undefined) {
                data = typeof body === "string" ? body : JSON.stringify(body);
                headers["Content-Type"] = contentType;
                headers["Content-Length"] = Buffer.byteLength(data);
            }
            const req = https.request({ host: this.host, port: this.port, method, path: p, headers, agent: this.agent, timeout: timeoutMs }, (res) => {
                const chunks = [];
                res.on("data", (c) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let json;
                    try {
                        json = text ? JSON.parse(text) : undefined;
                    } catch {
                        json = undefined;
                    }
                    resolve({ status: res.statusCode, json, text });
                });
            });
            req.on("timeout", () => req.destroy(new Error(`${method} ${p}: timeout`)));
            req.on("error", reject);
            if (data !== undefined) req.write(data);
            req.end();
        });
    }

    async get(p) {
        return this.request("GET", p);
    }

    /** TokenRequest for a service account; returns the JWT (never logged). */
    async token(namespace, sa, { audiences, expirationSeconds = 3600 } = {}) {
        const r = await this.request("POST", `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}/token`, {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: { audiences, expirationSeconds },
        });
        if (r.status !== 201 && r.status !== 200) throw new Error(`TokenRequest ${namespace}/${sa}: HTTP ${r.status} ${r.json?.message ?? ""}`);
        return r.json.status.token;
    }
}

// ---------------------------------------------------------------- control plane

/** etcd + kube-apiserver + kube-controller-manager on loopback; resolves when /readyz and the SA controller work. */
export async function startControlPlane(dir, st, { controllerManager = true } = {}) {
    const p = paths(dir);
    const c = p.certs;
    const etcd = toolPath("etcd");
    const apiserver = toolPath("kube-apiserver");
    const kcm = controllerManager ? toolPath("kube-controller-manager") : undefined;
    const issuer = "https://kubernetes.default.svc.cluster.local";
    const server = `https://127.0.0.1:${st.apiPort}`;
    writeAdminKubeconfig(dir, server);

    startDaemon(dir, "etcd", etcd, [
        "--name", "local", "--data-dir", p.etcd,
        "--listen-client-urls", `http://127.0.0.1:${st.etcdPort}`, "--advertise-client-urls", `http://127.0.0.1:${st.etcdPort}`,
        "--listen-peer-urls", `http://127.0.0.1:${st.etcdPeerPort}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${st.etcdPeerPort}`,
        "--initial-cluster", `local=http://127.0.0.1:${st.etcdPeerPort}`,
        "--listen-metrics-urls", `http://127.0.0.1:${st.etcdMetricsPort}`,
        "--unsafe-no-fsync", "--log-level", "warn",
    ]);
    startDaemon(dir, "kube-apiserver", apiserver, [
        "--etcd-servers", `http://127.0.0.1:${st.etcdPort}`,
        "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", String(st.apiPort),
        "--tls-cert-file", path.join(c, "apiserver.crt"), "--tls-private-key-file", path.join(c, "apiserver.key"),
        "--client-ca-file", path.join(c, "ca.crt"),
        "--service-account-issuer", issuer,
        "--api-audiences", issuer,
        "--service-account-key-file", path.join(c, "sa.pub"), "--service-account-signing-key-file", path.join(c, "sa.key"),
        "--service-cluster-ip-range", "10.0.0.0/24",
        "--authorization-mode", "Node,RBAC",
        "--allow-privileged=true",
        "--profiling=false",
        "--enable-priority-and-fairness=false",
    ]);
    const admin = () => Kube.admin(dir);
    await waitFor("kube-apiserver /readyz", async () => (await admin().get("/readyz")).status === 200, {
        timeoutMs: 180000,
        check: ensureAlive(dir, ["etcd", "kube-apiserver"]),
    });
    if (!kcm) return { server, issuer };
    startDaemon(dir, "kube-controller-manager", kcm, [
        "--kubeconfig", p.kubeconfig, "--authentication-kubeconfig", p.kubeconfig, "--authorization-kubeconfig", p.kubeconfig,
        "--bind-address", "127.0.0.1", "--secure-port", String(st.kcmPort),
        "--service-account-private-key-file", path.join(c, "sa.key"), "--root-ca-file", path.join(c, "ca.crt"),
        "--cluster-signing-cert-file", path.join(c, "ca.crt"), "--cluster-signing-key-file", path.join(c, "ca.key"),
        "--use-service-account-credentials=true", "--leader-elect=false",
        "--controllers", "*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
    ]);
    // The serviceaccount controller is running once "default" has its ServiceAccount.
    await waitFor("the default ServiceAccount (kube-controller-manager up)", async () => (await admin().get("/api/v1/namespaces/default/serviceaccounts/default")).status === 200, {
        timeoutMs: 120000,
        check: ensureAlive(dir, ["etcd", "kube-apiserver", "kube-controller-manager"]),
    });
    return { server, issuer };
}

// ---------------------------------------------------------------- OpenBao

/** OpenBao with single-node raft storage (2.x has no "file" backend), uninitialised, not dev mode. */
export async function startBao(dir, st) {
    const p = paths(dir);
    fs.mkdirSync(path.join(p.bao, "data"), { recursive: true, mode: 0o700 });
    const addr = `http://127.0.0.1:${st.baoPort}`;
    const hcl =
        `storage "raft" {\n  path = "${path.join(p.bao, "data")}"\n  node_id = "local"\n}\n` +
        `listener "tcp" {\n  address = "127.0.0.1:${st.baoPort}"\n  cluster_address = "127.0.0.1:${st.baoClusterPort}"\n  tls_disable = true\n}\n` +
        `api_addr = "${addr}"\ncluster_addr = "http://127.0.0.1:${st.baoClusterPort}"\nui = false\nlog_level = "info"\n`;
    fs.writeFileSync(path.join(p.bao, "config.hcl"), hcl);
    startDaemon(dir, "bao", toolPath("bao"), ["server", `-config=${path.join(p.bao, "config.hcl")}`], {
        env: { ...process.env, HOME: p.bao },
        cwd: p.bao,
    });
    await waitFor("OpenBao seal-status", async () => (await fetch(`${addr}/v1/sys/seal-status`)).status === 200, {
        timeoutMs: 60000,
        intervalMs: 200,
        check: ensureAlive(dir, ["bao"]),
    });
    return addr;
}

export async function restartBao(dir) {
    await stopDaemon(dir, "bao");
    return startBao(dir, readState(dir));
}

/** Plain OpenBao API call for assertions; the token (if any) is only sent, never logged. */
export async function bao(dir, method, apiPath, body, token) {
    const st = readState(dir);
    const headers = {};
    if (token) headers["X-Vault-Token"] = token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(`http://127.0.0.1:${st.baoPort}/v1/${apiPath}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json;
    try {
        json = text ? JSON.parse(text) : {};
    } catch {
        json = { raw: text };
    }
    return { status: r.status, json };
}

// ---------------------------------------------------------------- external-secrets chart

/**
 * The chart as the module ships it cannot be installed offline (see tools/external-secrets/NOTES.md):
 * it carries no CRDs and declares an unvendored OCI dependency. Prepare what the release process
 * would publish: a copy without `dependencies:` and with the CRD bundle as templates/crds/,
 * gated by installCRDs (the program sets installCRDs: true).
 */
export function prepareEsoChart(dir) {
    const src = toolPath("external-secrets-chart");
    const crds = toolPath("external-secrets-crds");
    const dst = paths(dir).esoChart;
    fs.rmSync(dst, { recursive: true, force: true });
    fs.cpSync(src, dst, { recursive: true });
    const chartYaml = path.join(dst, "Chart.yaml");
    const text = fs.readFileSync(chartYaml, "utf8");
    // Drop the `dependencies:` block (it runs to the next top-level key or EOF).
    const lines = text.split("\n");
    const out = [];
    let skipping = false;
    for (const line of lines) {
        if (/^dependencies:/.test(line)) {
            skipping = true;
            continue;
        }
        if (skipping && /^\S/.test(line)) skipping = false;
        if (!skipping) out.push(line);
    }
    fs.writeFileSync(chartYaml, out.join("\n").trimEnd() + "\n");
    fs.rmSync(path.join(dst, "Chart.lock"), { force: true });
    const bundleFile = fs.statSync(crds).isDirectory() ? path.join(crds, "bundle.yaml") : crds;
    const bundle = fs.readFileSync(bundleFile, "utf8");
    if (bundle.includes("{{")) throw new Error(`${bundleFile} contains template braces; cannot embed it in the chart as is`);
    fs.mkdirSync(path.join(dst, "templates", "crds"), { recursive: true });
    fs.writeFileSync(path.join(dst, "templates", "crds", "bundle.yaml"), `{{- if .Values.installCRDs }}\n${bundle}\n{{- end }}\n`);
    return dst;
}

// ---------------------------------------------------------------- Pulumi CLI

/** The provider plugins the program needs (package.json pins), as the engine looks them up. */
export const PLUGINS = [
    { name: "kubernetes", version: "4.34.2" },
    { name: "vault", version: "7.8.0" },
    { name: "random", version: "4.21.2" },
];

/**
 * Plugins neither in $PULUMI_HOME/plugins/resource-<name>-v<version>/ nor on PATH. With automatic
 * plugin acquisition off (and no network), pulumi fails on the first resource of a missing one.
 */
export function missingPlugins(env) {
    const dirs = (env.PATH ?? "").split(":").filter(Boolean);
    return PLUGINS.filter(({ name, version }) => {
        const exe = `pulumi-resource-${name}`;
        if (fs.existsSync(path.join(env.PULUMI_HOME ?? "", "plugins", `resource-${name}-v${version}`, exe))) return false;
        return !dirs.some((d) => fs.existsSync(path.join(d, exe)));
    }).map(({ name, version }) => `pulumi-resource-${name} v${version}`);
}


/**
 * Runs the pulumi CLI in the project dir. Resolves { code, stdout, stderr, ms }; never throws on a
 * non-zero exit. `echo` streams output (used by `npm run local`); tests keep it in memory.
 */
export function pulumi(dir, args, { env, echo = false, input, timeoutMs = 30 * 60000 } = {}) {
    return new Promise((resolve) => {
        const t0 = Date.now();
        const child = spawn("pulumi", args, { cwd: repoRoot, env: env ?? pulumiEnv(dir), stdio: ["pipe", "pipe", "pipe"] });
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
export async function initStack(dir, { vaultAddress, kubernetesHost, registryPassword, extraConfig = {} }) {
    const p = paths(dir);
    fs.mkdirSync(p.state, { recursive: true });
    fs.copyFileSync(path.join(repoRoot, `Pulumi.${STACK}.yaml`), p.stackConfig);
    const env = pulumiEnv(dir);
    const ls = await pulumi(dir, ["stack", "ls", "--json"], { env });
    const exists = ls.code === 0 && JSON.parse(ls.stdout || "[]").some((s) => s.name === STACK || s.name.endsWith(`/${STACK}`));
    if (!exists) await pulumiOk(dir, ["stack", "init", STACK, "--secrets-provider", "passphrase"], { env });
    const set = (k, v, secret = false) =>
        pulumiOk(dir, ["config", "set", ...cfgArgs(dir), ...(secret ? ["--secret"] : ["--plaintext"]), k, "--", v], { env });
    await set("vault-eso-platform:vaultAddress", vaultAddress);
    await set("vault-eso-platform:kubernetesHost", kubernetesHost);
    // Multi-line PEM: config set reads it fine from argv.
    await set("vault-eso-platform:kubernetesCaCert", fs.readFileSync(path.join(p.certs, "ca.crt"), "utf8"));
    await set("vault-eso-platform:esoChartPath", p.esoChart);
    await set("kubernetes:kubeconfig", p.kubeconfig);
    await set("vault-eso-platform:registryPassword", registryPassword, true);
    for (const [k, v] of Object.entries(extraConfig)) await set(k, v);
}

/** Fresh ports for every daemon, recorded in state.json. */
export async function allocateState(dir) {
    const [apiPort, etcdPort, etcdPeerPort, etcdMetricsPort, kcmPort, baoPort, baoClusterPort, esoMetricsPort] = await freePorts(8);
    const st = { apiPort, etcdPort, etcdPeerPort, etcdMetricsPort, kcmPort, baoPort, baoClusterPort, esoMetricsPort, created: new Date().toISOString() };
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(paths(dir).stateJson, JSON.stringify(st, null, 2));
    return st;
}

/** Starts the ESO supervisor (detached): waits for the chart's SA, mints a token, runs the controller. */
export function startEsoSupervisor(dir) {
    return startDaemon(dir, "eso-supervisor", process.execPath, [path.join(repoRoot, "scripts", "local", "eso-supervisor.mjs"), dir], { cwd: repoRoot });
}

/** Everything up to (not including) `pulumi up`: PKI, control plane, OpenBao, chart, stack, ESO supervisor. */
export async function bringUp(dir, { registryPassword, extraConfig } = {}) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = await allocateState(dir);
    makePki(dir);
    const { server } = await startControlPlane(dir, st);
    const vaultAddress = await startBao(dir, st);
    prepareEsoChart(dir);
    await initStack(dir, { vaultAddress, kubernetesHost: server, registryPassword, extraConfig });
    startEsoSupervisor(dir);
    return { st, server, vaultAddress };
}

export async function tearDown(dir) {
    await stopAll(dir);
    fs.rmSync(dir, { recursive: true, force: true });
}

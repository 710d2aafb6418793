// Runs the external-secrets controller ON THE HOST as the chart's own ServiceAccount, so the chart's
// RBAC is what gets exercised. The SA (and the CRDs) only exist once `pulumi up` has installed the
// chart, so this loops: wait for the SA and the CRDs -> TokenRequest -> kubeconfig -> run the
// controller; restart it when it exits or when the SA is recreated (a token is bound to the SA's uid).
//
// Usage: node scripts/local/eso-supervisor.mjs <data dir>   (started detached by lib.mjs)
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Kube, esoControllerFlags, log, paths, readState, sleep, toolPath } from "./lib.mjs";

const dir = process.argv[2];
if (!dir) {
    console.error("usage: eso-supervisor.mjs <data dir>");
    process.exit(2);
}
const NS = process.env.ESO_NAMESPACE || "external-secrets";
// The chart's controller Deployment (release "external-secrets": its full name).
const DEPLOYMENT = process.env.ESO_DEPLOYMENT || "external-secrets";
const SA = process.env.ESO_SERVICE_ACCOUNT || "external-secrets";
const p = paths(dir);
const st = readState(dir);
const server = `https://127.0.0.1:${st.apiPort}`;

let child;
let stopping = false;
const stop = () => {
    stopping = true;
    if (child && child.exitCode === null) child.kill("SIGTERM");
    setTimeout(() => process.exit(0), 5000).unref();
    if (!child || child.exitCode !== null) process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

function writeKubeconfig(token) {
    const kc = `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "${server}", certificate-authority: "${path.join(p.certs, "ca.crt")}"}
users:
- name: ${NS}-${SA}
  user: {token: "${token}"}
contexts:
- name: local
  context: {cluster: local, user: ${NS}-${SA}, namespace: ${NS}}
current-context: local
`;
    fs.writeFileSync(p.esoKubeconfig, kc, { mode: 0o600 });
}

/**
 * True once every external-secrets CRD the chart installed is Established and their number held
 * still since the last poll. A controller started earlier (the chart's ServiceAccount can exist
 * before its CRDs are served) logs "if kind is a CRD, it should be installed before calling Start"
 * and never watches that kind: its SecretStores stay unreconciled until `up` times out.
 */
let lastCrdCount = -1;
async function crdsEstablished(admin) {
    const r = await admin.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions");
    const crds = (r.json?.items ?? []).filter((c) => c.metadata.name.endsWith("external-secrets.io"));
    const established = crds.filter((c) => (c.status?.conditions ?? []).some((x) => x.type === "Established" && x.status === "True"));
    const stable = crds.length > 0 && crds.length === lastCrdCount;
    lastCrdCount = crds.length;
    return stable && established.length === crds.length;
}

/**
 * The flags of the chart's Deployment that change how the controller syncs (esoControllerFlags),
 * spelt the way this binary knows them; undefined until the chart has created the Deployment.
 */
async function chartFlags(admin) {
    const r = await admin.get(`/apis/apps/v1/namespaces/${NS}/deployments/${DEPLOYMENT}`);
    if (r.status !== 200) return undefined;
    helpText ??= spawnSync(bin, ["--help"], { encoding: "utf8" }).stdout ?? "";
    return esoControllerFlags(r.json, { newCacheFlag: helpText.includes("--enable-vault-token-cache ") });
}
let helpText;

async function saUid(admin) {
    const r = await admin.get(`/api/v1/namespaces/${NS}/serviceaccounts/${SA}`);
    return r.status === 200 ? r.json.metadata.uid : undefined;
}

const bin = toolPath("external-secrets");
log(`supervisor: waiting for ServiceAccount ${NS}/${SA} (created by the chart during pulumi up)`);
let noDeploymentSince;
while (!stopping) {
    const admin = Kube.admin(dir);
    let uid;
    try {
        uid = await saUid(admin);
    } catch (e) {
        log(`supervisor: apiserver not reachable: ${e.message}`);
    }
    if (!uid || !(await crdsEstablished(admin).catch(() => false))) {
        await sleep(1000);
        continue;
    }
    // The chart creates its Deployment with the ServiceAccount; objects wired by hand (the e2e's
    // --manual tier) have none: after a grace period, the controller's own defaults. Should the
    // Deployment turn up later, its flags differ and the controller restarts with them.
    let flags = await chartFlags(admin).catch(() => undefined);
    if (!flags) {
        noDeploymentSince ??= Date.now();
        if (Date.now() - noDeploymentSince < 20000) {
            await sleep(1000);
            continue;
        }
        log(`supervisor: no Deployment ${NS}/${DEPLOYMENT} (objects wired by hand?): the controller's own defaults`);
        flags = [];
    }
    noDeploymentSince = undefined;
    let token;
    try {
        token = await admin.token(NS, SA, { expirationSeconds: 86400 });
    } catch (e) {
        log(`supervisor: ${e.message}`);
        await sleep(2000);
        continue;
    }
    writeKubeconfig(token);
    log(`supervisor: starting external-secrets as system:serviceaccount:${NS}:${SA} (uid ${uid}) with the chart's ${flags.join(" ") || "defaults"}`);
    const args = [
        // No metrics server: nothing here reads it, and a port picked when the plane started can be
        // taken by then (a pulumi engine's ephemeral port was: every restart failed to bind).
        "--metrics-addr=0",
        "--enable-leader-election=false",
        ...flags,
        "--loglevel=info",
        "--zap-time-encoding=iso8601",
    ];
    const logFd = fs.openSync(path.join(p.logs, "external-secrets.log"), "a");
    child = spawn(bin, args, { env: { ...process.env, KUBECONFIG: p.esoKubeconfig }, stdio: ["ignore", logFd, logFd] });
    fs.closeSync(logFd);
    fs.writeFileSync(path.join(p.pids, "external-secrets.pid"), String(child.pid));
    const exited = new Promise((r) => child.once("exit", (code, sig) => r(`${code ?? sig}`)));
    // Watch the SA: if it goes away or is recreated (destroy, re-up), the token is dead; restart.
    // Restart too when the Deployment's flags change, as its pod would be replaced.
    let reason;
    for (;;) {
        const res = await Promise.race([exited.then((c) => `controller exited (${c})`), sleep(5000).then(() => undefined)]);
        if (res) {
            reason = res;
            break;
        }
        if (stopping) break;
        let now, nowFlags;
        try {
            now = await saUid(Kube.admin(dir));
            nowFlags = await chartFlags(Kube.admin(dir));
        } catch {
            continue;
        }
        if (now === uid && nowFlags && nowFlags.join(" ") !== flags.join(" ")) {
            reason = `the chart's flags changed to ${nowFlags.join(" ") || "defaults"}`;
            child.kill("SIGTERM");
            await exited;
            break;
        }
        if (now !== uid) {
            reason = now ? "ServiceAccount recreated" : "ServiceAccount deleted";
            child.kill("SIGTERM");
            await exited;
            break;
        }
    }
    fs.rmSync(path.join(p.pids, "external-secrets.pid"), { force: true });
    if (stopping) break;
    log(`supervisor: ${reason}; restarting`);
    await sleep(2000);
}

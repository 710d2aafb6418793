// The cluster tier: a one-node Kubernetes cluster from parts on this machine (control plane,
// containerd + runc, kubelet, CNI bridge, kube-proxy, CoreDNS, kube-scheduler), local images, a
// private registry with basic auth, and the stack in chart mode. Host changes are recorded first
// (host-before.json) and put back by tearDownCluster.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePorts, log, paths, toolPath } from "./base.mjs";
import { startControlPlane } from "./controlPlane.mjs";
import { grantCoreDns, startCoreDns } from "./dns.mjs";
import { prepareEsoChart } from "./eso.mjs";
import { cacheRoot, chartImage, chartVersion, esoRelease, findChart } from "./handbuilt.mjs";
import { diffHost, restoreIptables, restoreSysctls, snapshotHost } from "./hostState.mjs";
import { buildImage, busyboxFiles, importImage, pushImage } from "./images.mjs";
import { Kube } from "./kube.mjs";
import { NET, checkNoClash, cleanupKubeProxy, createBridge, removeBridge, startKubeProxy, writeCniConfig } from "./network.mjs";
import { SANDBOX_IMAGE, nodePaths, startContainerd, startKubelet, startScheduler } from "./node.mjs";
import { makeCert, makePki } from "./pki.mjs";
import { alive, ensureAlive, pidOf, stopDaemon, waitFor } from "./process.mjs";
import { initStack } from "./pulumi.mjs";
import { registryHost, startRegistry } from "./registry.mjs";

/** Stop order: workloads' runtime last but one, the API last. */
export const CLUSTER_DAEMONS = ["kubelet", "kube-proxy", "coredns", "kube-scheduler", "registry", "seal-server", "containerd", "kube-controller-manager", "kube-apiserver", "etcd"];

const CACHE = cacheRoot;

/**
 * The vault-helm chart directory: --vault-chart / VAULT_CHART_DIR, else <cache>/charts/vault.
 * Never in the checkout: it comes from a snapshot of hashicorp/vault-helm (README "Cluster tier").
 */
export function findVaultChart(explicit = process.env.VAULT_CHART_DIR) {
    return findChart("vault", explicit);
}

/** The openbao chart (openbao/openbao-helm): OPENBAO_CHART_DIR, else <cache>/charts/openbao. */
export function findOpenBaoChart(explicit = process.env.OPENBAO_CHART_DIR) {
    return findChart("openbao", explicit);
}

/** What the cluster tier needs and is missing (tools and chart), for "not run" reports. */
export function clusterPrerequisites() {
    const missing = [];
    for (const t of ["kubelet", "kube-scheduler", "kube-proxy", "containerd", "containerd-shim-runc-v2", "ctr", "coredns", "registry", "registry-htpasswd", "runc", "busybox", "cni-plugins"]) {
        try {
            toolPath(t);
        } catch {
            missing.push(`tool ${t} (npm run tools -- cluster)`);
        }
    }
    if (!findVaultChart()) missing.push(`the vault-helm chart at ${path.join(CACHE(), "charts", "vault")} (or VAULT_CHART_DIR)`);
    for (const bin of ["iptables", "iptables-save", "ip"]) {
        try {
            execFileSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" });
        } catch {
            missing.push(`${bin} on PATH (apt-get install iptables iproute2)`);
        }
    }
    if (process.getuid?.() !== 0) missing.push("root (the kubelet, containerd and the bridge need it)");
    return missing;
}

/**
 * The server image for the chart: vault-helm gets HashiCorp Vault where its optional build exists,
 * else the pinned OpenBao binary named `vault` (a stand-in, with `fallback` saying so); the openbao
 * chart gets OpenBao as its own image has it (`bao`, BAO_* environment, /openbao dirs).
 */
function serverImage(chartName) {
    const versionOf = (bin) => execFileSync(bin, ["version"], { encoding: "utf8" }).match(/v(\d+\.\d+\.\d+)/)[1];
    if (chartName === "openbao") {
        const bin = toolPath("bao");
        return { bin, exe: "bao", root: "openbao", repository: "localhost/vep/openbao", tag: versionOf(bin), flavor: "openbao", mapVaultEnv: false };
    }
    try {
        const bin = toolPath("vault");
        return { bin, exe: "vault", root: "vault", repository: "localhost/vep/vault", tag: versionOf(bin), flavor: "vault", mapVaultEnv: false };
    } catch {
        const bin = toolPath("bao");
        return {
            bin, exe: "vault", root: "vault", repository: "localhost/vep/openbao-as-vault", tag: versionOf(bin), flavor: "openbao", mapVaultEnv: true,
            fallback: "vault-helm runs the OpenBao binary under the name vault (HashiCorp Vault not built: npm run tools -- vault)",
        };
    }
}

/**
 * What the cluster tier will run, before anything starts: one line per piece, and the fallbacks
 * (a hand-built piece missing and what stands in for it, with why).
 */
export function clusterComponents() {
    const eso = esoRelease();
    const vault = serverImage("vault");
    const openbaoChart = findOpenBaoChart();
    const running = [
        `vault-helm ${chartVersionOf(findVaultChart())} with ${vault.fallback ? `OpenBao ${vault.tag} as vault` : `HashiCorp Vault ${vault.tag}`}`,
        `external-secrets ${eso.version}${eso.programDefaults ? " (webhook, cert controller)" : ""}`,
        openbaoChart ? `openbao chart ${chartVersionOf(openbaoChart)} with OpenBao ${serverImage("openbao").tag}` : undefined,
    ].filter(Boolean);
    const fallbacks = [vault.fallback, eso.fallback, openbaoChart ? undefined : `no openbao-chart phases: the openbao chart is not at ${path.join(CACHE(), "charts", "openbao")} (or OPENBAO_CHART_DIR)`].filter(Boolean);
    return { running, fallbacks, eso, openbaoChart };
}

const chartVersionOf = (dir) => (dir ? chartVersion(dir) : "(missing)");

/** Shell lines exporting BAO_<X> from each VAULT_<X> the chart sets (unless BAO_<X> is set). */
const BAO_FROM_VAULT_ENV = String.raw`for v in $(env | sed -n 's/^VAULT_\([A-Z0-9_]*\)=.*/\1/p'); do eval "export BAO_$v=\"\${BAO_$v:-\$VAULT_$v}\""; done` + "\n";

/** Our images: pause (sandbox), the Vault/OpenBao server as its chart expects it, ESO, the private demo image. */
function buildImages(dir, { chartName, eso }) {
    const work = nodePaths(dir).images;
    fs.mkdirSync(work, { recursive: true });
    const bb = busyboxFiles(toolPath("busybox"));
    const server = serverImage(chartName);
    // The OpenBao stand-in for vault-helm reads BAO_* where the chart sets VAULT_* (VAULT_K8S_POD_NAME
    // for the HA service registration that labels the active pod, VAULT_API_ADDR, ...): map them.
    const entrypoint = `#!/bin/sh
# Stands in for the official image's entrypoint: the chart runs
# "/usr/local/bin/docker-entrypoint.sh ${server.exe} server -config=...".
set -e
${server.mapVaultEnv ? BAO_FROM_VAULT_ENV : ""}exec "$@"
`;
    const esoImage = chartImage(eso.chart);
    const images = {
        pause: buildImage(work, { name: SANDBOX_IMAGE, files: bb, entrypoint: ["/bin/sleep", "2147483647"] }),
        vault: buildImage(work, {
            name: `${server.repository}:${server.tag}`,
            files: [
                ...bb,
                { path: `bin/${server.exe}`, from: server.bin },
                { path: "usr/local/bin/docker-entrypoint.sh", content: entrypoint, mode: 0o755 },
                ...["config", "data", "logs", "file", "audit"].map((d) => ({ path: `${server.root}/${d}`, dir: true, mode: 0o1777 })),
                { path: `home/${server.root}`, dir: true, mode: 0o1777 },
            ],
            entrypoint: ["/usr/local/bin/docker-entrypoint.sh"],
            cmd: [server.exe, "server", "-dev"],
        }),
        // The name the external-secrets chart asks for by default (values image.repository and its
        // appVersion), so no value changes: ESO 2.x runs the controller, `webhook` and `certcontroller` from it.
        eso: buildImage(work, {
            name: `${esoImage.repository}:${esoImage.appVersion}`,
            files: [{ path: "bin/external-secrets", from: eso.bin }, { path: "tmp", dir: true, mode: 0o1777 }],
            entrypoint: ["/bin/external-secrets"],
        }),
        demo: buildImage(work, {
            name: "demo/go-sample:1",
            files: [...bb, { path: "www/index.html", content: "go-sample stand-in\n" }],
            // PID 1 gets no default SIGTERM handler: trap it, or every delete waits the 30 s grace period.
            entrypoint: ["/bin/sh", "-c", "trap 'exit 0' TERM INT; httpd -f -p 80 -h /www & wait"],
        }),
    };
    return { images, server };
}

/** hostPath volumes for the Vault StatefulSet's claims (no provisioner here), owned by Vault's uid/gid. */
async function createVolumes(dir, kube, count) {
    const root = nodePaths(dir).volumes;
    for (let i = 0; i < count; i++) {
        const d = path.join(root, `vault-data-${i}`);
        fs.mkdirSync(d, { recursive: true });
        fs.chownSync(d, 100, 1000);
        const r = await kube.request("POST", "/api/v1/persistentvolumes", {
            apiVersion: "v1",
            kind: "PersistentVolume",
            metadata: { name: `vep-vault-data-${i}` },
            spec: { capacity: { storage: "10Gi" }, accessModes: ["ReadWriteOnce"], persistentVolumeReclaimPolicy: "Retain", hostPath: { path: d, type: "Directory" } },
        });
        if (r.status !== 201 && r.status !== 409) throw new Error(`create PersistentVolume vep-vault-data-${i}: HTTP ${r.status} ${r.json?.message ?? ""}`);
    }
}

/** Fresh ports and the node's identity, recorded in state.json. */
async function allocateClusterState(dir) {
    const names = ["apiPort", "etcdPort", "etcdPeerPort", "etcdMetricsPort", "kcmPort", "schedulerPort", "kubeletPort", "kubeletHealthPort", "proxyHealthPort", "proxyMetricsPort", "dnsHealthPort", "dnsReadyPort", "registryPort"];
    const ports = await freePorts(names.length);
    const st = { mode: "cluster", apiHost: NET.nodeIp, nodeName: "vep-node", created: new Date().toISOString() };
    names.forEach((n, i) => (st[n] = ports[i]));
    fs.writeFileSync(paths(dir).stateJson, JSON.stringify(st, null, 2));
    return st;
}

/**
 * Everything up to `pulumi up` in chart mode. `ha`: the prod-like 3 raft replicas. `chartName`:
 * "vault" (vault-helm) or "openbao" (the openbao chart with an OpenBao image). Returns, besides the
 * addresses, what ran (`vaultServer`, `eso`) and every `fallbacks` line: a hand-built piece that is
 * missing and what stands in for it.
 */
export async function bringUpCluster(dir, { registryPassword, registryUsername = "e2e-robot", ha = false, chartName = "vault", extraConfig = {} } = {}) {
    const missing = clusterPrerequisites();
    const vaultChart = chartName === "openbao" ? findOpenBaoChart() : findVaultChart();
    if (chartName === "openbao" && !vaultChart) missing.push(`the openbao chart at ${path.join(CACHE(), "charts", "openbao")} (or OPENBAO_CHART_DIR)`);
    if (missing.length) throw new Error(`the cluster tier cannot start; missing:\n  ${missing.join("\n  ")}`);
    checkNoClash();
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const p = paths(dir);
    // Before anything changes the host: what --down must restore, and what the test compares.
    const before = path.join(dir, "host-before.json");
    if (!fs.existsSync(before)) fs.writeFileSync(before, JSON.stringify(snapshotHost({ ownDirs: ownDirs(dir) })));
    const st = await allocateClusterState(dir);
    makePki(dir, { extraIps: [NET.nodeIp] });
    createBridge();
    const kc = makeCert(dir, "apiserver-kubelet-client", "/CN=kube-apiserver-kubelet-client");
    // The apiserver's audit log of port-forward and exec requests: proves the program's tunnel went
    // through the API (test/e2e/cluster.mjs), and shows who opened what.
    const auditPolicy = path.join(p.dir, "audit-policy.yaml");
    fs.writeFileSync(auditPolicy, `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  resources: [{group: "", resources: ["pods/portforward", "pods/exec"]}]
- level: None
`);
    const { server } = await startControlPlane(dir, st, {
        nodeLifecycle: true,
        apiserverArgs: [
            "--kubelet-client-certificate", kc.cert, "--kubelet-client-key", kc.key,
            "--kubelet-certificate-authority", path.join(p.certs, "ca.crt"),
            "--kubelet-preferred-address-types", "InternalIP",
            "--audit-policy-file", auditPolicy, "--audit-log-path", path.join(p.logs, "apiserver-audit.log"),
        ],
    });
    const kube = Kube.admin(dir);
    await grantCoreDns(kube);
    startCoreDns(dir, st, server);
    startKubeProxy(dir, st, server);
    const registry = registryHost(st);
    const sock = await startContainerd(dir, { runc: toolPath("runc"), cniBin: toolPath("cni-plugins"), cniConf: writeCniConfig(dir), registry });
    const eso = esoRelease();
    const { images, server: vaultServer } = buildImages(dir, { chartName, eso });
    for (const img of [images.pause, images.vault, images.eso]) importImage(toolPath("ctr"), sock, img, nodePaths(dir).images);
    startKubelet(dir, st, server);
    startScheduler(dir, st, server);
    const daemons = ["etcd", "kube-apiserver", "kube-controller-manager", "containerd", "kubelet", "kube-scheduler", "kube-proxy", "coredns"];
    await waitFor("node Ready without taints", async () => {
        const n = (await kube.get(`/api/v1/nodes/${st.nodeName}`)).json;
        const ready = (n?.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
        return ready && !(n.spec?.taints ?? []).length;
    }, { timeoutMs: 180000, check: ensureAlive(dir, daemons) });
    startRegistry(dir, st, { username: registryUsername, password: registryPassword });
    await waitFor("registry", async () => (await fetch(`http://${registry}/v2/`)).status === 401, { timeoutMs: 30000, check: ensureAlive(dir, ["registry"]) });
    await pushImage(`http://${registry}`, "demo/go-sample", "1", images.demo, { username: registryUsername, password: registryPassword });
    await createVolumes(dir, kube, ha ? 3 : 1);
    prepareEsoChart(dir, eso);
    const fallbacks = [vaultServer.fallback, eso.fallback].filter(Boolean);
    await initStack(dir, {
        template: "Pulumi.local-cluster.yaml",
        kubernetesHost: undefined,
        registryPassword,
        extraConfig: {
            "vault-eso-platform:vaultChartName": chartName,
            "vault-eso-platform:vaultChartPath": vaultChart,
            "vault-eso-platform:vaultImage": `${vaultServer.repository}:${vaultServer.tag}`,
            "vault-eso-platform:registryServer": registry,
            "vault-eso-platform:registryUsername": registryUsername,
            "vault-eso-platform:demoImage": `${registry}/demo/go-sample:1`,
            // The program's ESO defaults (webhook, cert controller) need the release they were made for.
            ...(eso.programDefaults ? {} : { "vault-eso-platform:esoWebhook": "false", "vault-eso-platform:esoCertController": "false" }),
            // One node: the raft replicas must be allowed to share it.
            ...(ha ? { "vault-eso-platform:vaultHa": "true", "vault-eso-platform:vaultReplicas": "3", "vault-eso-platform:vaultPodAntiAffinity": "preferred" } : {}),
            ...extraConfig,
        },
    });
    log(`one-node cluster ready: node ${st.nodeName} (${NET.nodeIp}), ${chartName} chart with the ${vaultServer.repository}:${vaultServer.tag} image, external-secrets ${eso.version} (${images.eso.name}), registry ${registry}`);
    for (const f of fallbacks) log(`fallback: ${f}`);
    return { st, server, registry, vaultServer, eso, esoImage: images.eso.name, fallbacks };
}

function ownDirs(dir) {
    return [path.join(CACHE(), "tools"), dir];
}

/** Unmounts whatever the kubelet and containerd left mounted under `prefixes`, deepest first. */
function unmountUnder(prefixes) {
    const points = fs
        .readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ")[4].replace(/\\040/g, " "))
        .filter((m) => prefixes.some((pre) => m === pre || m.startsWith(pre + "/")))
        .sort((a, b) => b.length - a.length);
    for (const m of points) {
        try {
            execFileSync("umount", ["-l", m], { stdio: "ignore" });
        } catch {
            /* already gone */
        }
    }
}

/** Removes cgroups the runtime created (v1: one dir per controller), if they were not there before. */
function removeCgroups(beforeDirs) {
    const had = new Set(beforeDirs);
    const root = "/sys/fs/cgroup";
    for (const ctrl of fs.existsSync(root) ? fs.readdirSync(root) : []) {
        for (const name of ["k8s.io", "kubepods", "kubepods.slice"]) {
            const d = path.join(root, ctrl, name);
            if (had.has(path.join(ctrl, name)) || !fs.existsSync(d)) continue;
            // rmdir works bottom-up on empty cgroups only (no tasks): children first.
            const all = execFileSync("find", [d, "-depth", "-type", "d"], { encoding: "utf8" }).split("\n").filter(Boolean);
            for (const c of all) {
                try {
                    fs.rmdirSync(c);
                } catch {
                    /* still has tasks, or already gone */
                }
            }
        }
    }
}

/**
 * Stops every pod and daemon, then puts the host back as host-before.json recorded it: mounts,
 * bridge and our iptables chain, kube-proxy's chains, sysctls, cgroups, host directories.
 * Returns what still differs (empty when clean).
 */
export async function tearDownCluster(dir) {
    const beforeFile = path.join(dir, "host-before.json");
    const before = fs.existsSync(beforeFile) ? JSON.parse(fs.readFileSync(beforeFile, "utf8")) : undefined;
    const n = nodePaths(dir);
    // Pods first, through the runtime, so their shims, mounts and netns go with them.
    await stopDaemon(dir, "kubelet");
    if (alive(pidOf(dir, "containerd"))) {
        try {
            const ctrK8s = (args) => execFileSync(toolPath("ctr"), ["--address", n.containerdSock, "-n", "k8s.io", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 60000 });
            for (const id of ctrK8s(["tasks", "ls", "-q"]).split("\n").filter(Boolean)) {
                try {
                    ctrK8s(["tasks", "kill", "-s", "SIGKILL", id]);
                } catch {
                    /* exited */
                }
            }
            await new Promise((r) => setTimeout(r, 1000));
            for (const id of ctrK8s(["tasks", "ls", "-q"]).split("\n").filter(Boolean)) {
                try {
                    ctrK8s(["tasks", "delete", "-f", id]);
                } catch {
                    /* gone */
                }
            }
            for (const id of ctrK8s(["containers", "ls", "-q"]).split("\n").filter(Boolean)) {
                try {
                    ctrK8s(["containers", "delete", id]);
                } catch {
                    /* gone */
                }
            }
        } catch {
            /* containerd not answering: the shims are killed below */
        }
    }
    for (const name of CLUSTER_DAEMONS) await stopDaemon(dir, name);
    killShims(dir);
    unmountUnder([dir, "/run/containerd", "/run/netns", "/var/lib/kubelet"]);
    cleanupKubeProxy();
    removeBridge();
    await removeStrayVeths(before);
    const report = [];
    if (before) {
        report.push(...restoreSysctls(before.sysctls).map((s) => `sysctl restored ${s}`));
        for (const fam of [4, 6]) report.push(...restoreIptables(fam, fam === 4 ? before.iptables : before.ip6tables).map((t) => `restored ${t} as recorded`));
        removeCgroups(before.cgroups);
        for (const d of ["/var/lib/kubelet", "/var/lib/cni", "/var/log/containers", "/var/log/pods", "/run/containerd", "/run/netns", "/etc/cni", "/opt/cni"]) {
            if (!before.hostDirs.includes(d) && fs.existsSync(d)) {
                fs.rmSync(d, { recursive: true, force: true });
                report.push(`removed ${d}`);
            }
        }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    const left = before ? diffHost(before, snapshotHost({ ownDirs: ownDirs(dir) })) : [];
    return { report, left };
}

/**
 * Pod veths outlive their pod until the kernel destroys its network namespace (asynchronously,
 * after the last process and bind mount are gone): wait a little, then delete any veth that was
 * not there before the cluster started.
 */
async function removeStrayVeths(before) {
    const had = new Set((before?.links ?? []).map((l) => String(l).split(/\s/)[0]));
    const veths = () =>
        execFileSync("ip", ["-o", "link", "show", "type", "veth"], { encoding: "utf8" })
            .split("\n")
            .filter(Boolean)
            .map((l) => l.split(": ")[1].split("@")[0])
            .filter((n) => !had.has(n));
    for (let i = 0; i < 20 && veths().length > 0; i++) await new Promise((r) => setTimeout(r, 250));
    for (const name of veths()) {
        try {
            execFileSync("ip", ["link", "del", name], { stdio: "ignore" });
        } catch {
            /* gone meanwhile */
        }
    }
}

/** containerd-shim-runc-v2 processes of this data dir (they outlive containerd by design). */
function killShims(dir) {
    for (const pid of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
        try {
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
            const exe = fs.readlinkSync(`/proc/${pid}/exe`);
            if (exe.endsWith("containerd-shim-runc-v2") && (cmd.includes(dir) || cmd.includes("k8s.io"))) process.kill(Number(pid), "SIGKILL");
        } catch {
            /* gone */
        }
    }
}


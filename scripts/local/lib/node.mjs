// The node of the one-node cluster: containerd (CRI) + runc, the kubelet, and kube-scheduler.
// Every flag that matters for this machine is here, with the reason next to it.
import * as fs from "node:fs";
import * as path from "node:path";
import { paths, toolPath } from "./base.mjs";
import { NET } from "./network.mjs";
import { componentKubeconfig, makeCert } from "./pki.mjs";
import { ensureAlive, startDaemon, waitFor } from "./process.mjs";

export function nodePaths(dir) {
    const d = paths(dir).dir;
    return {
        containerdRoot: path.join(d, "containerd", "root"),
        containerdState: path.join(d, "containerd", "state"),
        containerdSock: path.join(d, "containerd", "containerd.sock"),
        containerdConfig: path.join(d, "containerd", "config.toml"),
        certsD: path.join(d, "containerd", "certs.d"),
        kubeletRoot: path.join(d, "kubelet"),
        kubeletConfig: path.join(d, "kubelet-config.yaml"),
        podLogs: path.join(d, "pod-logs"),
        images: path.join(d, "images"),
        volumes: path.join(d, "volumes"),
    };
}

/** containerd 2.x config (version 3) with everything under the data dir. */
export function writeContainerdConfig(dir, { runc, cniBin, cniConf, registry }) {
    const n = nodePaths(dir);
    fs.mkdirSync(path.dirname(n.containerdConfig), { recursive: true });
    // The local registry speaks plain HTTP on the node bridge: say so for that host only.
    const hostDir = path.join(n.certsD, registry);
    fs.mkdirSync(hostDir, { recursive: true });
    fs.writeFileSync(path.join(hostDir, "hosts.toml"), `server = "http://${registry}"\n\n[host."http://${registry}"]\n  capabilities = ["pull", "resolve"]\n`);
    fs.writeFileSync(
        n.containerdConfig,
        `version = 3
root = "${n.containerdRoot}"
state = "${n.containerdState}"

[grpc]
  address = "${n.containerdSock}"

[ttrpc]
  address = "${n.containerdSock}.ttrpc"

[metrics]
  address = ""

[plugins."io.containerd.cri.v1.runtime"]
  # This VM lacks CAP_SYS_RESOURCE: without this every sandbox fails with
  # "runc create failed: ... can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  enable_selinux = false
  # Pod network namespaces under the state dir, not /run/netns.
  netns_mounts_under_state_dir = true

  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"

    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "${runc}"
        SystemdCgroup = false

  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["${cniBin}"]
    conf_dir = "${cniConf}"
    max_conf_num = 1

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"

  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "${SANDBOX_IMAGE}"

  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "${n.certsD}"

[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
`,
    );
    return n.containerdConfig;
}

/** The pause image is ours too (busybox sleeping): nothing can be pulled. */
export const SANDBOX_IMAGE = "localhost/vep/pause:1";

export async function startContainerd(dir, opts) {
    const n = nodePaths(dir);
    const config = writeContainerdConfig(dir, opts);
    // The runc shim and runc are found through PATH.
    const env = { ...process.env, PATH: `${path.dirname(toolPath("containerd-shim-runc-v2"))}:${path.dirname(opts.runc)}:${process.env.PATH}` };
    startDaemon(dir, "containerd", toolPath("containerd"), ["--config", config, "--log-level", "warn"], { env });
    await waitFor("containerd socket", async () => fs.existsSync(n.containerdSock), { timeoutMs: 60000, check: ensureAlive(dir, ["containerd"]) });
    return n.containerdSock;
}

/** Kubelet identity (system:node:<name>) and serving cert on the node IP (the apiserver verifies it). */
export function startKubelet(dir, st, server) {
    const p = paths(dir);
    const n = nodePaths(dir);
    const kubeconfig = componentKubeconfig(dir, "kubelet", `/O=system:nodes/CN=system:node:${st.nodeName}`, server);
    makeCert(dir, "kubelet-serving", `/CN=${st.nodeName}`, { sans: `IP:${NET.nodeIp},DNS:${st.nodeName}`, usage: "serverAuth" });
    fs.mkdirSync(n.kubeletRoot, { recursive: true });
    fs.mkdirSync(n.podLogs, { recursive: true });
    // Pods with dnsPolicy Default get no upstream: nothing may leave the machine.
    const resolv = path.join(p.dir, "resolv.conf");
    fs.writeFileSync(resolv, `nameserver ${NET.nodeIp}\n`);
    fs.writeFileSync(
        n.kubeletConfig,
        `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NET.nodeIp}
port: ${st.kubeletPort}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${st.kubeletHealthPort}
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: "${p.certs}/ca.crt"}
authorization: {mode: AlwaysAllow}
tlsCertFile: "${p.certs}/kubelet-serving.crt"
tlsPrivateKeyFile: "${p.certs}/kubelet-serving.key"
containerRuntimeEndpoint: "unix://${n.containerdSock}"
clusterDNS: ["${NET.nodeIp}"]
clusterDomain: cluster.local
resolvConf: "${resolv}"
podLogsDir: "${n.podLogs}"
# cgroups are v1 here and the VM has no systemd-managed slices for us.
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
# No CAP_SYS_RESOURCE: the kubelet may not lower its own OOM score.
oomScoreAdj: 0
# Imported images cannot be pulled again: never garbage-collect them, never evict for disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi"}
serializeImagePulls: false
registerNode: true
maxPods: 30
`,
    );
    startDaemon(dir, "kubelet", toolPath("kubelet"), [
        "--config", n.kubeletConfig,
        "--kubeconfig", kubeconfig,
        "--root-dir", n.kubeletRoot,
        "--cert-dir", path.join(n.kubeletRoot, "pki"),
        "--hostname-override", st.nodeName,
        "--node-ip", NET.nodeIp,
        "--v", "1",
    ]);
}

/** kube-scheduler as system:kube-scheduler, serving on loopback only. */
export function startScheduler(dir, st, server) {
    const kubeconfig = componentKubeconfig(dir, "kube-scheduler", "/CN=system:kube-scheduler", server);
    startDaemon(dir, "kube-scheduler", toolPath("kube-scheduler"), [
        "--kubeconfig", kubeconfig, "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
        "--bind-address", "127.0.0.1", "--secure-port", String(st.schedulerPort), "--leader-elect=false",
    ]);
}

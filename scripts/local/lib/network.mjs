// Networking of the one-node cluster: a bridge of ours holding the node IP (the kubelet refuses
// loopback), the pods' CNI config on that bridge, kube-proxy, and a FORWARD guard so that nothing
// from the pods can leave the machine. CIDRs are chosen not to clash with this host's routes.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { paths, toolPath } from "./base.mjs";
import { componentKubeconfig } from "./pki.mjs";
import { startDaemon } from "./process.mjs";

export const NET = {
    bridge: "vep0",
    /** Node IP: the apiserver, kubelet, CoreDNS and the registry bind here (and on loopback). */
    nodeIp: "10.214.0.1",
    podCidr: "10.214.0.0/24",
    serviceCidr: "10.0.0.0/24",
    /** Guards pods' traffic in FORWARD; removed by --down. */
    guardChain: "VEP-NODE-GUARD",
};

const sh = (cmd, args) => execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
const quiet = (cmd, args) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;

/** Refuses to start when our CIDR is already routed on this host (another run, or a real network). */
export function checkNoClash() {
    if (quiet("ip", ["link", "show", NET.bridge])) {
        throw new Error(`bridge ${NET.bridge} exists: another cluster-tier run is active, or one was not torn down (npm run local -- --down [--dir <its data dir>]); one cluster at a time`);
    }
    const routes = sh("ip", ["-4", "route", "show"]);
    const clash = routes.split("\n").find((l) => l.startsWith("10.214.") && !l.includes(`dev ${NET.bridge}`));
    if (clash) throw new Error(`10.214.0.0/24 is already routed on this host (${clash.trim()}); the cluster tier needs it for its pods`);
}

/** The node bridge with the node IP; pods attach to it through the CNI bridge plugin. */
export function createBridge() {
    if (!quiet("ip", ["link", "show", NET.bridge])) sh("ip", ["link", "add", NET.bridge, "type", "bridge"]);
    if (!sh("ip", ["-4", "addr", "show", "dev", NET.bridge]).includes(`${NET.nodeIp}/24`)) sh("ip", ["addr", "add", `${NET.nodeIp}/24`, "dev", NET.bridge]);
    sh("ip", ["link", "set", NET.bridge, "up"]);
    // Pods reach services through DNAT on this host, so it must forward between bridge ports; the
    // guard lets the bridge talk to itself and to this host, and drops everything else from pods.
    fs.writeFileSync("/proc/sys/net/ipv4/ip_forward", "1");
    if (!quiet("iptables", ["-n", "-L", NET.guardChain])) {
        sh("iptables", ["-N", NET.guardChain]);
        sh("iptables", ["-A", NET.guardChain, "-s", NET.podCidr, "-d", NET.podCidr, "-j", "RETURN"]);
        sh("iptables", ["-A", NET.guardChain, "-s", NET.podCidr, "-j", "DROP"]);
        sh("iptables", ["-A", NET.guardChain, "-d", NET.podCidr, "!", "-i", NET.bridge, "-j", "DROP"]);
        sh("iptables", ["-I", "FORWARD", "1", "-j", NET.guardChain]);
    }
}

export function removeBridge() {
    while (quiet("iptables", ["-D", "FORWARD", "-j", NET.guardChain]));
    if (quiet("iptables", ["-n", "-L", NET.guardChain])) {
        quiet("iptables", ["-F", NET.guardChain]);
        quiet("iptables", ["-X", NET.guardChain]);
    }
    if (quiet("ip", ["link", "show", NET.bridge])) quiet("ip", ["link", "del", NET.bridge]);
}

/** CNI config: bridge + host-local IPAM (data in our dir) + portmap; no masquerade (nothing leaves). */
export function writeCniConfig(dir) {
    const p = paths(dir);
    const conf = path.join(p.dir, "cni", "net.d");
    fs.mkdirSync(conf, { recursive: true });
    fs.writeFileSync(
        path.join(conf, "10-vep.conflist"),
        JSON.stringify(
            {
                cniVersion: "1.0.0",
                name: "vep",
                plugins: [
                    {
                        type: "bridge",
                        bridge: NET.bridge,
                        isGateway: true,
                        ipMasq: false,
                        hairpinMode: true,
                        ipam: {
                            type: "host-local",
                            dataDir: path.join(p.dir, "cni", "ipam"),
                            ranges: [[{ subnet: NET.podCidr, rangeStart: "10.214.0.10", gateway: NET.nodeIp }]],
                            routes: [{ dst: "0.0.0.0/0" }],
                        },
                    },
                    { type: "portmap", capabilities: { portMappings: true } },
                ],
            },
            null,
            2,
        ),
    );
    return conf;
}

/**
 * kube-proxy (iptables mode) as identity system:kube-proxy. Masquerade-all makes service traffic
 * between pods on the same bridge return through this host; conntrack sysctls are left alone.
 */
export function startKubeProxy(dir, st, server) {
    const p = paths(dir);
    const kubeconfig = componentKubeconfig(dir, "kube-proxy", "/CN=system:kube-proxy", server);
    const config = path.join(p.dir, "kube-proxy.yaml");
    fs.writeFileSync(
        config,
        `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: "${kubeconfig}"}
hostnameOverride: ${st.nodeName}
bindAddress: ${NET.nodeIp}
clusterCIDR: ${NET.podCidr}
healthzBindAddress: 127.0.0.1:${st.proxyHealthPort}
metricsBindAddress: 127.0.0.1:${st.proxyMetricsPort}
nodePortAddresses: ["${NET.nodeIp}/32"]
iptables: {masqueradeAll: true, localhostNodePorts: false}
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
`,
    );
    startDaemon(dir, "kube-proxy", toolPath("kube-proxy"), ["--config", config]);
}

/** kube-proxy's own cleanup of its iptables chains (v4 and v6). */
export function cleanupKubeProxy() {
    try {
        spawnSync(toolPath("kube-proxy"), ["--cleanup"], { stdio: "ignore", timeout: 60000 });
    } catch {
        /* not built: nothing of it ran */
    }
}

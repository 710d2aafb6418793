// Cluster DNS: CoreDNS as a host process on the node IP (the kubelet's clusterDNS), answering
// cluster.local from the API and nothing else: no forwarder, so no query leaves the machine.
import * as fs from "node:fs";
import * as path from "node:path";
import { paths, toolPath } from "./base.mjs";
import { NET } from "./network.mjs";
import { componentKubeconfig } from "./pki.mjs";
import { startDaemon } from "./process.mjs";

/** The read-only RBAC CoreDNS's kubernetes plugin needs, for its own identity "coredns". */
export async function grantCoreDns(kube) {
    const role = {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "vep:coredns" },
        rules: [
            { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
            { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
        ],
    };
    const binding = {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: "vep:coredns" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "vep:coredns" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "coredns" }],
    };
    for (const [url, body] of [["/apis/rbac.authorization.k8s.io/v1/clusterroles", role], ["/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding]]) {
        const r = await kube.request("POST", url, body);
        if (r.status !== 201 && r.status !== 409) throw new Error(`create ${body.kind} ${body.metadata.name}: HTTP ${r.status} ${r.json?.message ?? ""}`);
    }
}

export function startCoreDns(dir, st, server) {
    const p = paths(dir);
    const kubeconfig = componentKubeconfig(dir, "coredns", "/CN=coredns", server);
    const corefile = path.join(p.dir, "Corefile");
    fs.writeFileSync(
        corefile,
        `.:53 {
    bind ${NET.nodeIp}
    errors
    health 127.0.0.1:${st.dnsHealthPort}
    ready 127.0.0.1:${st.dnsReadyPort}
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfig} local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    cache 5
}
`,
    );
    startDaemon(dir, "coredns", toolPath("coredns"), ["-conf", corefile]);
}

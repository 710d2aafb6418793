// The control plane: etcd, kube-apiserver, kube-controller-manager. Loopback only by default (no
// kubelet: pods never run); the cluster tier (cluster.mjs) binds the apiserver to its node bridge
// (st.apiHost), gives it kubelet client certs and turns the node lifecycle controller on.
import * as path from "node:path";
import { paths, toolPath } from "./base.mjs";
import { Kube } from "./kube.mjs";
import { writeAdminKubeconfig } from "./pki.mjs";
import { ensureAlive, startDaemon, waitFor } from "./process.mjs";

/** etcd + kube-apiserver + kube-controller-manager on loopback; resolves when /readyz and the SA controller work. */
export async function startControlPlane(dir, st, { controllerManager = true, apiserverArgs = [], nodeLifecycle = false } = {}) {
    const p = paths(dir);
    const c = p.certs;
    const etcd = toolPath("etcd");
    const apiserver = toolPath("kube-apiserver");
    const kcm = controllerManager ? toolPath("kube-controller-manager") : undefined;
    const issuer = "https://kubernetes.default.svc.cluster.local";
    const host = st.apiHost ?? "127.0.0.1";
    const server = `https://${host}:${st.apiPort}`;
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
        "--bind-address", host, "--advertise-address", host, "--secure-port", String(st.apiPort),
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
        ...apiserverArgs,
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
        // Without a node, nodelifecycle has nothing to do; with one, it lifts the not-ready taint.
        "--controllers", `*,-nodeipam,${nodeLifecycle ? "" : "-nodelifecycle,"}-cloud-node-lifecycle,-service-lb-controller,-node-route-controller`,
    ]);
    // The serviceaccount controller is running once "default" has its ServiceAccount.
    await waitFor("the default ServiceAccount (kube-controller-manager up)", async () => (await admin().get("/api/v1/namespaces/default/serviceaccounts/default")).status === 200, {
        timeoutMs: 120000,
        check: ensureAlive(dir, ["etcd", "kube-apiserver", "kube-controller-manager"]),
    });
    return { server, issuer };
}


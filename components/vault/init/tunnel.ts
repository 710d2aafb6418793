// A stable local address for an in-cluster Vault (e.g. for the @pulumi/vault provider):
// a listener on a fixed loopback port, each connection port-forwarded through the Kubernetes
// API to the pod behind it, resolved lazily so the listener works before the pod exists.
import { loadKubeConfig, openForward } from "./forward";

export interface VaultTunnelArgs {
    namespace: string;
    /** Forward to this pod... */
    podName?: string;
    /** ...or to a ready pod behind this Service (resolved per connection), e.g. "vault-active"... */
    serviceName?: string;
    /**
     * ...or to a running pod with these labels (resolved per connection), e.g.
     * "app.kubernetes.io/instance=vault,component=server,vault-active=true": the label Vault's (or,
     * as openbao-active, OpenBao's) Kubernetes service registration puts on the active node, whatever
     * chart's Services select.
     */
    podSelector?: string;
    /** Vault port in the pod; default 8200. */
    port?: number;
    /** Local port on 127.0.0.1; default 18200. Fixed, so the vault provider's address is stable across runs. */
    localPort?: number;
    /** kubeconfig content; default: loadFromDefault(). */
    kubeconfig?: string;
    context?: string;
    scheme?: "http" | "https";
}

export interface VaultTunnel {
    address: string;
    close(): Promise<void>;
}

export async function openVaultTunnel(a: VaultTunnelArgs): Promise<VaultTunnel> {
    if ([a.podName, a.serviceName, a.podSelector].filter(Boolean).length !== 1) {
        throw new Error("openVaultTunnel: set exactly one of podName / serviceName / podSelector");
    }
    const kc = loadKubeConfig({ kubeconfig: a.kubeconfig, context: a.context });
    const pod = a.podName
        ? async () => a.podName as string
        : a.serviceName
          ? () => readyPodOf(kc, a.namespace, a.serviceName as string)
          : () => runningPodWith(kc, a.namespace, a.podSelector as string);
    const fw = await openForward(kc, a.namespace, pod, a.port ?? 8200, a.scheme ?? "http", a.localPort ?? 18200, true);
    return { address: fw.base, close: fw.close };
}

/** First ready pod behind a Service, from its EndpointSlices. */
export async function readyPodOf(kc: any, namespace: string, service: string): Promise<string> {
    const k8s = require("@kubernetes/client-node");
    const api = kc.makeApiClient(k8s.DiscoveryV1Api);
    const list = await api.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
    for (const slice of list.items ?? []) {
        for (const ep of slice.endpoints ?? []) {
            if (ep.conditions?.ready !== false && ep.targetRef?.kind === "Pod" && ep.targetRef.name) {
                return ep.targetRef.name;
            }
        }
    }
    throw new Error(`no ready pod behind service ${namespace}/${service}`);
}

/** First running pod (by name) with these labels. */
export async function runningPodWith(kc: any, namespace: string, labelSelector: string): Promise<string> {
    const k8s = require("@kubernetes/client-node");
    const api = kc.makeApiClient(k8s.CoreV1Api);
    const list = await api.listNamespacedPod({ namespace, labelSelector });
    const names = (list.items ?? [])
        .filter((p: any) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp)
        .map((p: any) => p.metadata.name as string)
        .sort();
    if (names.length === 0) {
        throw new Error(`no running pod with labels ${labelSelector} in ${namespace}`);
    }
    return names[0];
}

// A stable local address for an in-cluster Vault (e.g. for the @pulumi/vault provider):
// a listener on a fixed loopback port, each connection port-forwarded through the Kubernetes
// API to the pod behind it, resolved lazily so the listener works before the pod exists.
import { loadKubeConfig, openForward } from "./forward";

export interface VaultTunnelArgs {
    namespace: string;
    /** Forward to this pod... */
    podName?: string;
    /** ...or to a ready pod behind this Service (resolved per connection), e.g. "vault-active". */
    serviceName?: string;
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
    if (!a.podName === !a.serviceName) {
        throw new Error("openVaultTunnel: set exactly one of podName / serviceName");
    }
    const kc = loadKubeConfig({ kubeconfig: a.kubeconfig, context: a.context });
    const pod = a.podName ? async () => a.podName as string : () => readyPodOf(kc, a.namespace, a.serviceName as string);
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

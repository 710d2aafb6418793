// Turns inputs into reachable targets: a direct address, or one port-forward per pod.
import { Target } from "./client";
import { loadKubeConfig, openForward } from "./forward";
import { Inputs } from "./inputs";

export interface Connection {
    /** First = leader (initialised first); the rest are raft followers. */
    targets: Target[];
    close(): Promise<void>;
}

export async function connect(i: Inputs): Promise<Connection> {
    if (i.address) {
        const t: Target = { label: i.address, base: i.address, ca: i.caCert, servername: i.tlsServerName };
        return { targets: [t], close: async () => undefined };
    }
    const k = i.kubernetes;
    if (!k) {
        throw new Error("VaultInit: set exactly one of address / kubernetes");
    }
    const kc = loadKubeConfig({ kubeconfig: k.kubeconfig, context: k.context });
    const scheme = k.scheme ?? "http";
    const forwards: { close(): Promise<void> }[] = [];
    const targets: Target[] = [];
    try {
        for (const pod of k.podNames) {
            const fw = await openForward(kc, k.namespace, async () => pod, k.port ?? 8200, scheme);
            forwards.push(fw);
            targets.push({ label: `k8s://${k.namespace}/${pod}`, base: fw.base, ca: i.caCert, servername: i.tlsServerName, diagnose: fw.lastError });
        }
    } catch (e) {
        await Promise.all(forwards.map((f) => f.close()));
        throw e;
    }
    return { targets, close: async () => void (await Promise.all(forwards.map((f) => f.close()))) };
}

/** The stable, secret-free description of where Vault is (what `address` output and diff use). */
export function targetKey(i: Inputs): string {
    if (i.address) {
        return i.address;
    }
    const k = i.kubernetes;
    if (!k) {
        return "";
    }
    // kubeconfig content is excluded: it is how we reach Vault, not which Vault.
    return `k8s://${k.namespace}/${k.podNames.join(",")}:${k.port ?? 8200}/${k.scheme ?? "http"}@${k.context ?? ""}`;
}

export function displayAddress(i: Inputs): string {
    if (i.address) {
        return i.address;
    }
    return i.kubernetes ? `k8s://${i.kubernetes.namespace}/${i.kubernetes.podNames[0]}` : "";
}

// What the Vault/OpenBao chart renders, as the engine shows it. A v4 Chart is a remote component
// whose own inputs are invisible to policies, but every object it renders is a child resource
// with full inputs; these helpers read Vault's server StatefulSet and its config from them.
import { PolicyResource } from "@pulumi/policy";
import { get, list, num, str } from "./props";

export const STATEFULSET_TYPE = "kubernetes:apps/v1:StatefulSet";
export const CONFIGMAP_TYPE = "kubernetes:core/v1:ConfigMap";
/** The chart's server config key in its `<release>-config` ConfigMap. */
export const SERVER_CONFIG_KEY = "extraconfig-from-values.hcl";

const serverAppName = /^(vault|openbao)$/;

export interface RenderedServer {
    resource: PolicyResource;
    namespace: string;
    instance: string | undefined;
    /** spec.replicas; Kubernetes defaults an unset value to 1. */
    replicas: number | undefined;
    /** Scheme of VAULT_ADDR in the server container: the chart derives it from global.tlsDisable. */
    scheme: "http" | "https" | undefined;
    /** The server's HCL from the chart's ConfigMap, when rendered. */
    config: string | undefined;
    devMode: boolean;
}

function label(r: PolicyResource, key: string): string | undefined {
    return str(get(r.props, "metadata", "labels", key));
}

function namespaceOf(r: PolicyResource): string {
    return str(get(r.props, "metadata", "namespace")) ?? "default";
}

/** Vault/OpenBao server StatefulSets rendered by their charts, with what they reveal. */
export function renderedVaultServers(resources: PolicyResource[]): RenderedServer[] {
    const configs = resources.filter((r) => r.type === CONFIGMAP_TYPE && typeof get(r.props, "data", SERVER_CONFIG_KEY) === "string");
    return resources
        .filter((r) => r.type === STATEFULSET_TYPE && serverAppName.test(label(r, "app.kubernetes.io/name") ?? ""))
        .map((r) => {
            const namespace = namespaceOf(r);
            const instance = label(r, "app.kubernetes.io/instance");
            const containers = list(get(r.props, "spec", "template", "spec", "containers")) ?? [];
            const envs = containers.flatMap((c) => list(get(c, "env")) ?? []);
            const addr = str(get(envs.find((e) => get(e, "name") === "VAULT_ADDR"), "value"));
            const args = containers.flatMap((c) => [...(list(get(c, "command")) ?? []), ...(list(get(c, "args")) ?? [])]);
            const config = configs.find((c) => namespaceOf(c) === namespace && label(c, "app.kubernetes.io/instance") === instance);
            return {
                resource: r,
                namespace,
                instance,
                replicas: get(r.props, "spec", "replicas") === undefined ? 1 : num(get(r.props, "spec", "replicas")),
                scheme: addr?.startsWith("https://") ? "https" : addr?.startsWith("http://") ? "http" : undefined,
                config: str(get(config?.props, "data", SERVER_CONFIG_KEY)),
                devMode: args.some((a) => typeof a === "string" && /(^|\s)-dev(\s|$)/.test(a)),
            };
        });
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ESO_API_VERSION } from "./secretStore";

/** One Secret key taken from one property of a KV entry. */
export interface SecretKeyRef {
    /** Key in the Kubernetes Secret. */
    secretKey: string;
    /** KV entry path below the store's mount. */
    path: string;
    /** Property of the KV entry. */
    property: string;
}

export interface ExternalSecretArgs {
    /** Name of the ExternalSecret and of the Secret it writes. */
    name: string;
    namespace: pulumi.Input<string>;
    /** The store to read through. */
    storeRef: { name: pulumi.Input<string>; kind: "SecretStore" | "ClusterSecretStore" };
    /** How often ESO re-reads Vault (Go duration). @default - "1h" */
    refreshInterval?: string;
    data: SecretKeyRef[];
    /** Secret type and templated data (engine v2); plain key copies when unset. */
    template?: { type: string; data: Record<string, string> };
}

/**
 * The ExternalSecret custom resource, named `<name>-es`; `up` waits until ESO reports it Ready
 * (SecretSynced). A tenant declares it as its own child, or through the ExternalSecret component.
 */
export function externalSecretResource(name: string, args: ExternalSecretArgs, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
    if (args.data.length === 0) {
        throw new pulumi.InputPropertiesError({
            message: "invalid ExternalSecret arguments",
            errors: [{ propertyPath: "data", reason: "map at least one key" }],
        });
    }
    return new k8s.apiextensions.CustomResource(
        `${name}-es`,
        {
            apiVersion: ESO_API_VERSION,
            kind: "ExternalSecret",
            metadata: { name: args.name, namespace: args.namespace, annotations: { "pulumi.com/waitFor": "condition=Ready" } },
            spec: {
                refreshInterval: args.refreshInterval ?? "1h",
                secretStoreRef: args.storeRef,
                target: {
                    name: args.name,
                    // Owner: ESO owns (and labels) the Secret, and deleting this resource deletes it.
                    creationPolicy: "Owner",
                    template: args.template ? { type: args.template.type, engineVersion: "v2", data: args.template.data } : undefined,
                },
                data: args.data.map((d) => ({ secretKey: d.secretKey, remoteRef: { key: d.path, property: d.property } })),
            },
        },
        opts,
    );
}

/** KV entry paths an ExternalSecret reads: the only paths its store's policy must grant. */
export const externalSecretPaths = (args: Pick<ExternalSecretArgs, "data">): string[] => [...new Set(args.data.map((d) => d.path))];

/**
 * An ExternalSecret wrapped in a component of its own: the layout of tenants deployed before the
 * flat one (components/tenants/layout.ts), kept so their state stays as it is.
 */
export class ExternalSecret extends pulumi.ComponentResource {
    /** Name of the synced Kubernetes Secret. */
    public readonly secretName: pulumi.Output<string>;
    /** KV entry paths this secret reads: the only paths ESO's policy grants. */
    public readonly paths: string[];
    public readonly resource: k8s.apiextensions.CustomResource;

    constructor(name: string, args: ExternalSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:externalSecrets:ExternalSecret", name, {}, opts);
        this.paths = externalSecretPaths(args);
        // A component's dependsOn does not reach its children by itself.
        this.resource = externalSecretResource(name, args, { parent: this, dependsOn: opts?.dependsOn });
        this.secretName = this.resource.metadata.name;
        this.registerOutputs({ secretName: this.secretName, paths: this.paths });
    }
}

/** Args for a Secret whose keys copy the properties of one KV entry. */
export function plainSecretArgs(
    base: Pick<ExternalSecretArgs, "name" | "namespace" | "storeRef" | "refreshInterval">,
    path: string,
    keys: string[],
): ExternalSecretArgs {
    return { ...base, data: keys.map((k) => ({ secretKey: k, path, property: k })) };
}

/**
 * Args for a `kubernetes.io/dockerconfigjson` pull secret templated from a KV entry holding
 * `username` and `password`, exactly as the guide's ExternalSecret does.
 */
export function dockerConfigSecretArgs(
    base: Pick<ExternalSecretArgs, "name" | "namespace" | "storeRef" | "refreshInterval">,
    path: string,
    registry: string,
): ExternalSecretArgs {
    const auth = '{{ printf "%s:%s" .username .password | b64enc }}';
    return {
        ...base,
        data: [
            { secretKey: "username", path, property: "username" },
            { secretKey: "password", path, property: "password" },
        ],
        template: {
            type: "kubernetes.io/dockerconfigjson",
            data: { ".dockerconfigjson": `{"auths":{"${registry}":{"auth":"${auth}"}}}` },
        },
    };
}

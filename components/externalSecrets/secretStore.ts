import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** How ESO's Vault client retries a failed request (SecretStore spec.retrySettings). */
export const STORE_RETRY = { maxRetries: 5, retryInterval: "2s" };

/** The ESO API version served by current external-secrets (v1beta1 is no longer served). */
export const ESO_API_VERSION = "external-secrets.io/v1";

export interface VaultSecretStoreArgs {
    /** "SecretStore" (one namespace) or "ClusterSecretStore" (every namespace). @default - "SecretStore" */
    kind?: "SecretStore" | "ClusterSecretStore";
    /** Store name. */
    name: string;
    /** SecretStore only: its namespace. */
    namespace?: pulumi.Input<string>;
    /** Vault URL as ESO reaches it. */
    server: pulumi.Input<string>;
    /** KV v2 mount. */
    kvMount: pulumi.Input<string>;
    /** Kubernetes auth mount path in Vault. */
    authMountPath: pulumi.Input<string>;
    /** Vault role to log in with. */
    role: pulumi.Input<string>;
    /**
     * Service account whose token ESO requests (TokenRequest API) to log in. For a SecretStore it
     * lives in the store's namespace; a ClusterSecretStore names its namespace.
     */
    serviceAccount: { name: pulumi.Input<string>; namespace?: pulumi.Input<string> };
    /** Audience requested for that token; must match the Vault role's audience. */
    audience: pulumi.Input<string>;
    /** PEM CA for Vault's TLS certificate. @default - system roots */
    caCert?: pulumi.Input<string>;
}

/**
 * The SecretStore/ClusterSecretStore custom resource, named `<name>-store`, backed by Vault with
 * kubernetes auth; `up` waits until it is Ready. A tenant declares it as its own child, or through
 * the VaultSecretStore component.
 */
export function secretStoreResource(name: string, args: VaultSecretStoreArgs, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
    const kind = args.kind ?? "SecretStore";
    if (kind === "SecretStore" && args.namespace === undefined) {
        throw new pulumi.InputPropertiesError({
            message: "invalid VaultSecretStore arguments",
            errors: [{ propertyPath: "namespace", reason: "a SecretStore needs a namespace (or use kind ClusterSecretStore)" }],
        });
    }
    return new k8s.apiextensions.CustomResource(
        `${name}-store`,
        {
            apiVersion: ESO_API_VERSION,
            kind,
            metadata: {
                name: args.name,
                namespace: kind === "SecretStore" ? args.namespace : undefined,
                // Fail `up` loudly when ESO cannot log in to Vault, instead of a silent broken store.
                annotations: { "pulumi.com/waitFor": "condition=Ready" },
            },
            spec: {
                // Vault restarts, failovers and rolling upgrades make its API unreachable for a few
                // seconds (a leader election, endpoints catching up): ESO's Vault client retries
                // each request over ~10 s instead of reporting SecretSyncedError at once
                // (its default without retrySettings is 2 quick retries).
                retrySettings: STORE_RETRY,
                provider: {
                    vault: {
                        server: args.server,
                        path: args.kvMount,
                        version: "v2",
                        caBundle: args.caCert ? pulumi.output(args.caCert).apply((c) => Buffer.from(c).toString("base64")) : undefined,
                        auth: {
                            kubernetes: {
                                mountPath: args.authMountPath,
                                role: args.role,
                                serviceAccountRef: {
                                    name: args.serviceAccount.name,
                                    namespace: kind === "ClusterSecretStore" ? args.serviceAccount.namespace : undefined,
                                    audiences: [args.audience],
                                },
                            },
                        },
                    },
                },
            },
        },
        opts,
    );
}

/**
 * A store wrapped in a component of its own: the layout of tenants deployed before the flat one
 * (components/tenants/layout.ts), kept so their state stays as it is.
 */
export class VaultSecretStore extends pulumi.ComponentResource {
    public readonly name: pulumi.Output<string>;
    public readonly kind: "SecretStore" | "ClusterSecretStore";
    public readonly store: k8s.apiextensions.CustomResource;

    constructor(name: string, args: VaultSecretStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:externalSecrets:VaultSecretStore", name, {}, opts);
        this.kind = args.kind ?? "SecretStore";
        // A component's dependsOn does not reach its children by itself.
        this.store = secretStoreResource(name, args, { parent: this, dependsOn: opts?.dependsOn });
        this.name = this.store.metadata.name;
        this.registerOutputs({ name: this.name, kind: this.kind });
    }
}

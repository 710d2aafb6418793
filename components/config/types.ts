import * as pulumi from "@pulumi/pulumi";
import type { SealSpec } from "./seal";

export type { SealSpec, SealType } from "./seal";

/** Where a Helm chart comes from: a repository + exact version, or a local directory (air-gapped). */
export interface ChartSource {
    /** Chart name in the repository. */
    name: string;
    repo: string;
    version: string;
    /** Local chart directory; when set, repo is not contacted. */
    path?: string;
}

/**
 * A tenant: its own namespace, reader service account, Vault role and policy (exactly its declared
 * paths), SecretStore, and secrets below its own KV prefix.
 */
export interface TenantSpec {
    /** DNS label; names the tenant's Vault role and policy. */
    name: string;
    /** Namespace of its SecretStore and synced Secrets. @default - the tenant name */
    namespace: string;
    /** Every secret path of the tenant lies below this KV prefix. @default - the tenant name */
    kvPrefix: string;
    secrets: AppSecretSpec[];
}

/**
 * A spoke of a hub: a workload cluster. The hub enables its auth mount `spokes/<name>` and its reader
 * policy; the spoke's own stack, with a token the hub mints for it, configures that mount, writes
 * roles there handing out that policy, and KV entries below kvPrefix.
 */
export interface SpokeSpec {
    /** DNS label (at most 40 characters); names its auth mount and its policies on the hub. */
    name: string;
    /** Its KV entries lie below this prefix. @default - "spokes/<name>" */
    kvPrefix: string;
    /** The spoke's Pulumi stack (the fleet runner destroys it when the spoke leaves the fleet file). @default - the spoke name */
    stack: string;
}

/**
 * A spoke's view of its hub: the hub's address and this spoke's token come from the hub stack's
 * outputs (`stack`, a StackReference) or, for a hub outside Pulumi, from `vaultAddress` and `token`.
 */
export interface HubSpec {
    /** This cluster's name on the hub: its auth mount is `spokes/<spokeName>`, its reader policy `pulumi-spoke-<spokeName>-reader`. */
    spokeName: string;
    /** The hub's stack (`org/project/stack`): outputs spokeEndpoints and spokeTokens. */
    stack?: string;
    /** The spoke's token, for a hub outside Pulumi (secret). */
    token?: pulumi.Output<string>;
    /** Every KV path of this spoke lies below this prefix. @default - "spokes/<spokeName>" */
    kvPrefix: string;
}

/** A Kubernetes Secret synced from one KV v2 path. */
export interface AppSecretSpec {
    /** Name of the ExternalSecret and of the Kubernetes Secret it writes. */
    name: string;
    /** KV v2 path below the mount, e.g. "path_to_secret". */
    path: string;
    /** Properties of the KV entry, each synced to a key of the same name. */
    keys: string[];
    /** "random": Pulumi seeds each key with a generated password; "none": the value is managed in Vault by people. */
    seed: "random" | "none";
}

export interface PlatformConfig {
    environment: string;
    vault: {
        /**
         * "chart": deploy the Vault chart into the cluster; "external": use a Vault reached at `address`;
         * "spoke": this cluster is a spoke of a hub's Vault (see `hub`), managed with the hub's scoped token.
         */
        mode: "chart" | "external" | "spoke";
        namespace: string;
        createNamespace: boolean;
        serviceAccount: string;
        chart: ChartSource;
        image?: { repository: string; tag: string };
        ha: boolean;
        replicas: number;
        /** HA: "required" keeps raft replicas on different nodes (the chart's default); "preferred" lets them share one. */
        podAntiAffinity: "required" | "preferred";
        ui: boolean;
        injector: boolean;
        tlsSecretName?: string;
        audit: boolean;
        /** "vault" (HashiCorp) or "openbao": how audit is enabled (API vs server HCL). */
        flavor: "vault" | "openbao";
        storageSize: string;
        /** Shamir (unseal keys after every restart) or an auto-unseal seal (recovery keys). */
        seal: SealSpec;
        /** Key shares created at init: unseal keys with Shamir, recovery keys with auto-unseal. */
        secretShares: number;
        secretThreshold: number;
        address?: string;
        /** PEM file that verifies Vault's certificate, and its content. */
        caCertFile?: string;
        caCert?: string;
        localPort: number;
        adoptUnsealKeys?: pulumi.Output<string[]>;
        adoptRootToken?: pulumi.Output<string>;
    };
    auth: {
        mountPath: string;
        kubernetesHost: string;
        kubernetesCaCert?: string;
        issuer?: string;
        roleName: string;
        tokenTtlSeconds: number;
        tokenMaxTtlSeconds: number;
        audience: string;
    };
    kv: { path: string };
    eso: {
        namespace: string;
        chart: ChartSource;
        serviceAccount: string;
        webhook: boolean;
        certController: boolean;
        skipAwait: boolean;
        /** ExternalSecrets the controller syncs at once (the chart's `concurrent`). */
        concurrent: number;
        /** Reuse each store's Vault token until it expires (the chart's `vault.enableTokenCache`). */
        vaultTokenCache: boolean;
        storeKind: "SecretStore" | "ClusterSecretStore";
        refreshInterval: string;
    };
    apps: { namespace: string; secrets: AppSecretSpec[] };
    /** Extra tenants besides the default one (appNamespace + appSecrets). */
    tenants: TenantSpec[];
    /**
     * A ValidatingAdmissionPolicy per tenant namespace: only the ESO controller may create or change
     * Opaque and dockerconfigjson Secrets there (Kubernetes >= 1.30).
     */
    tenantSecretGuard: boolean;
    /**
     * Hub: the spokes it mints scoped tokens for. Declared (even empty), the admin token may mint and
     * revoke spoke tokens; an empty list is how the last spoke leaves (its token is revoked with
     * that grant), and removing the key afterwards drops the grant.
     */
    spokes?: SpokeSpec[];
    /**
     * Hub: the Vault URL its spokes reach it at, exported in `spokeEndpoints` (spokes with `hubStack`
     * read it from there). @default - the address this stack's own Vault provider uses (in chart
     * mode a loopback tunnel: set this for real spokes)
     */
    spokesVaultAddress?: string;
    /** Spoke mode: the hub whose Vault this cluster uses, and this cluster's name there. */
    hub?: HubSpec;
    /**
     * A spoke in its hub's own cluster (docs/tenant-shards.md): its tenants use the hub's
     * external-secrets; it installs no ESO chart and has no default tenant (apps.secrets empty,
     * registry off). Adding a tenant changes only this stack, however many tenants the others hold.
     */
    tenantShard: boolean;
    registry: {
        enabled: boolean;
        server: string;
        path: string;
        secretName: string;
        username?: string;
        password?: pulumi.Output<string>;
    };
    demo: { enabled: boolean; image: string };
}

/** Every problem in the stack configuration, reported at once before any resource exists. */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly problems: string[]) {
        super(
            `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was changed:\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

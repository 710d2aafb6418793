// VaultInit: initialise (once) and unseal a Vault/OpenBao, keeping keys and root token as stack secrets.
// Design, reachability and limits: ./README.md.
import * as pulumi from "@pulumi/pulumi";
import type { KubernetesTarget } from "./inputs";
import { PROVIDER_VERSION, vaultInitProvider } from "./provider";

export { PROVIDER_VERSION } from "./provider";

export interface VaultInitArgs {
    /** Direct base URL (external Vault, or a local server in tests), e.g. "https://vault.example.com:8200". Exactly one of address / kubernetes. */
    address?: pulumi.Input<string>;
    /** In-cluster Vault: reach each pod through the Kubernetes API (port-forward), so nothing must be exposed. */
    kubernetes?: pulumi.Input<KubernetesTarget>;
    /** PEM for TLS verification. */
    caCert?: pulumi.Input<string>;
    tlsServerName?: pulumi.Input<string>;
    /** default 5 */
    secretShares?: pulumi.Input<number>;
    /** default 3 */
    secretThreshold?: pulumi.Input<number>;
    /** Optional, passed to sys/init: the keys come back encrypted and cannot unseal until decrypted and adopted. */
    pgpKeys?: pulumi.Input<string[]>;
    rootTokenPgpKey?: pulumi.Input<string>;
    /** Adopt a Vault initialised elsewhere (manual init or lost state): its unseal keys and root token, from secret stack config. */
    adoptUnsealKeys?: pulumi.Input<string[]>;
    adoptRootToken?: pulumi.Input<string>;
    /** HA raft: followers (all pods except the first) join this leader API address before unsealing, e.g. "http://vault-0.vault-internal:8200". */
    raftLeaderApiAddr?: pulumi.Input<string>;
    /**
     * HCL of the paths the program manages, for the `pulumi-admin` policy of the admin token (token
     * self lookup/renew is always added; the policy itself is off limits to the token).
     * @default - none: the admin token can only look itself up and renew itself
     */
    adminPolicy?: pulumi.Input<string>;
    /** Period of the admin token, renewed on every run. @default - "768h" */
    adminTokenPeriod?: pulumi.Input<string>;
    /** Bound on waiting for Vault to answer / for each step. default 300 */
    timeoutSeconds?: pulumi.Input<number>;
}

export class VaultInit extends pulumi.dynamic.Resource {
    /**
     * secret; empty once the admin identity exists (the root token from init, or the adopted one, is
     * revoked then). Non-empty only while it cannot be used: PGP-encrypted, or an init that failed midway.
     */
    public readonly rootToken!: pulumi.Output<string>;
    /** secret: orphan periodic token with only the `pulumi-admin` policy, renewed on every run */
    public readonly adminToken!: pulumi.Output<string>;
    /** secret: base64 keys as returned by init (keys_base64), or recovery keys under auto-unseal */
    public readonly unsealKeys!: pulumi.Output<string[]>;
    /** "shamir" | "transit" | ... */
    public readonly sealType!: pulumi.Output<string>;
    public readonly secretShares!: pulumi.Output<number>;
    public readonly secretThreshold!: pulumi.Output<number>;
    public readonly vaultVersion!: pulumi.Output<string>;
    /** the address used (direct) or "k8s://<ns>/<pod>" */
    public readonly address!: pulumi.Output<string>;

    constructor(name: string, args: VaultInitArgs, opts?: pulumi.CustomResourceOptions) {
        const props = {
            address: args.address,
            // kubeconfig content may hold credentials: keep the whole object secret in the state then.
            kubernetes: args.kubernetes === undefined ? undefined : pulumi.output(args.kubernetes).apply((k) => (k.kubeconfig ? pulumi.secret(k) : k)),
            caCert: args.caCert,
            tlsServerName: args.tlsServerName,
            secretShares: args.secretShares ?? 5,
            secretThreshold: args.secretThreshold ?? 3,
            pgpKeys: args.pgpKeys,
            rootTokenPgpKey: args.rootTokenPgpKey,
            adoptUnsealKeys: args.adoptUnsealKeys === undefined ? undefined : pulumi.secret(args.adoptUnsealKeys),
            adoptRootToken: args.adoptRootToken === undefined ? undefined : pulumi.secret(args.adoptRootToken),
            raftLeaderApiAddr: args.raftLeaderApiAddr,
            adminPolicy: args.adminPolicy,
            adminTokenPeriod: args.adminTokenPeriod ?? "768h",
            timeoutSeconds: args.timeoutSeconds ?? 300,
            providerVersion: PROVIDER_VERSION,
            // Output-only properties, declared so the engine fills them in.
            rootToken: undefined,
            adminToken: undefined,
            unsealKeys: undefined,
            sealType: undefined,
            vaultVersion: undefined,
        };
        super(vaultInitProvider, name, props, vaultInitOptions(opts), "vault", "VaultInit");
    }
}

/** The options every VaultInit is registered with: keys and tokens are always secret. */
export function vaultInitOptions(opts?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
    const extra = ["rootToken", "adminToken", "unsealKeys"];
    return pulumi.mergeOptions(opts, { additionalSecretOutputs: extra });
}

import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { checkVaultPath } from "../config";

export interface KubernetesAuthRole {
    /** Role name used at login (and in SecretStores). */
    name: string;
    /** Service accounts allowed to log in: exact names, never "*". */
    serviceAccountNames: string[];
    /** Their namespaces: exact names, never "*". */
    namespaces: string[];
    /** The policy HCL granted to tokens of this role; stored as policy `<name>`. */
    policyHcl: string;
    /** Token TTL in seconds. */
    tokenTtlSeconds: number;
    /** Token max TTL in seconds. */
    tokenMaxTtlSeconds: number;
    /** Audience the service-account JWT must carry. */
    audience: string;
}

export interface KubernetesAuthArgs {
    /** Auth mount path. @default - "kubernetes" */
    mountPath?: string;
    /**
     * Enable the mount (`vault auth enable`). A spoke's hub enables the spoke's mount and the spoke
     * only configures it: false.
     * @default - true
     */
    manageMount?: boolean;
    /** Kubernetes API URL as Vault reaches it. */
    kubernetesHost: pulumi.Input<string>;
    /** PEM CA of the Kubernetes API. */
    kubernetesCaCert: pulumi.Input<string>;
    /** JWT Vault uses for TokenReview (secret). */
    tokenReviewerJwt: pulumi.Input<string>;
    /**
     * Expected JWT issuer. Since Kubernetes 1.21 projected tokens carry the cluster's issuer URL,
     * which differs per distribution; Vault's recommended setting is to skip the check (the
     * TokenReview call already proves the token).
     * @default - issuer validation disabled (`disable_iss_validation = true`)
     */
    issuer?: pulumi.Input<string>;
    /**
     * Roles and their least-privilege policies. Tenants declare their own (components/tenants).
     * @default - none
     */
    roles?: KubernetesAuthRole[];
}

/** `vault auth enable kubernetes`, its config and the roles, as code. */
export class KubernetesAuth extends pulumi.ComponentResource {
    public readonly path: pulumi.Output<string>;
    public readonly roleNames: pulumi.Output<string[]>;
    public readonly policyNames: pulumi.Output<string[]>;
    /** The mount's config: logins work once it exists (roles depend on it). */
    public readonly config: vault.kubernetes.AuthBackendConfig;

    constructor(name: string, args: KubernetesAuthArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:vault:KubernetesAuth", name, {}, opts);
        validate(args);

        const mountPath = args.mountPath ?? "kubernetes";
        const backend =
            args.manageMount === false
                ? undefined
                : new vault.AuthBackend(`${name}-backend`, { type: "kubernetes", path: mountPath, description: "Kubernetes service-account login" }, { parent: this });
        const path = backend ? backend.path : pulumi.output(mountPath);
        const config = new vault.kubernetes.AuthBackendConfig(
            `${name}-config`,
            {
                backend: path,
                kubernetesHost: args.kubernetesHost,
                kubernetesCaCert: args.kubernetesCaCert,
                tokenReviewerJwt: pulumi.secret(args.tokenReviewerJwt),
                issuer: args.issuer,
                disableIssValidation: args.issuer === undefined,
            },
            { parent: this },
        );

        this.config = config;
        const declared = args.roles ?? [];
        const policies = declared.map(
            (role) => new vault.Policy(`${name}-${role.name}-policy`, { name: role.name, policy: role.policyHcl }, { parent: this }),
        );
        const roles = declared.map(
            (role, i) =>
                new vault.kubernetes.AuthBackendRole(
                    `${name}-${role.name}-role`,
                    {
                        backend: path,
                        roleName: role.name,
                        boundServiceAccountNames: role.serviceAccountNames,
                        boundServiceAccountNamespaces: role.namespaces,
                        tokenPolicies: [policies[i].name],
                        tokenTtl: role.tokenTtlSeconds,
                        tokenMaxTtl: role.tokenMaxTtlSeconds,
                        audience: role.audience,
                    },
                    // Logins only work once the backend can review tokens.
                    { parent: this, dependsOn: [config] },
                ),
        );

        this.path = path;
        this.roleNames = pulumi.all(roles.map((r) => r.roleName));
        this.policyNames = pulumi.all(policies.map((p) => p.name));
        this.registerOutputs({ path: this.path, roleNames: this.roleNames, policyNames: this.policyNames });
    }
}

function validate(args: KubernetesAuthArgs): void {
    const errors: pulumi.InputPropertyErrorDetails[] = [];
    const mountReason = checkVaultPath(args.mountPath ?? "kubernetes");
    if (mountReason) errors.push({ propertyPath: "mountPath", reason: mountReason });
    (args.roles ?? []).forEach((role, i) => {
        const at = `roles[${i}]`;
        for (const [field, values] of [["serviceAccountNames", role.serviceAccountNames], ["namespaces", role.namespaces]] as const) {
            if (values.length === 0 || values.some((v) => v === "" || v.includes("*"))) {
                errors.push({ propertyPath: `${at}.${field}`, reason: "must list exact names; wildcards and empty lists bind every service account" });
            }
        }
        if (role.tokenTtlSeconds <= 0 || role.tokenTtlSeconds > role.tokenMaxTtlSeconds) {
            errors.push({ propertyPath: `${at}.tokenTtlSeconds`, reason: "must be positive and not above tokenMaxTtlSeconds" });
        }
    });
    if (errors.length > 0) throw new pulumi.InputPropertiesError({ message: "invalid KubernetesAuth arguments", errors });
}

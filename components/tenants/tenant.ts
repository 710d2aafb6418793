import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { checkDnsLabel } from "../config";
import { ExternalSecret, ExternalSecretArgs, dockerConfigSecretArgs, externalSecretResource, plainSecretArgs } from "../externalSecrets/externalSecret";
import { VaultSecretStore, secretStoreResource } from "../externalSecrets/secretStore";
import { renderKvReadPolicy } from "../vault/policy";
import { TenantLayout } from "./layout";
import { tenantSecretGuard } from "./secretGuard";

/** One Kubernetes Secret synced from one KV v2 entry. */
export interface TenantSecret {
    /** Name of the ExternalSecret and of the Secret it writes. */
    name: string;
    /** KV v2 path below the mount. */
    path: string;
    /** Properties of the entry, each copied to a key of the same name. */
    keys: string[];
}

/**
 * Where this tenant's resources lived before the Tenant component existed (state written by older
 * versions of the program): the aliases keep that state, so an upgrade changes nothing.
 */
export interface TenantLegacyNames {
    /** The tenant's old AppNamespace component, e.g. "platform-apps" or "platform-tenant-team-a". */
    namespaceComponent: string;
    /** Its old VaultSecretStore component. */
    storeComponent: string;
    /** Its ExternalSecret components were named `<secretPrefix>-<secret name>`. */
    secretPrefix: string;
    /** The KubernetesAuth component its role and policy were children of. */
    auth: pulumi.Resource;
    /** That component's name. */
    authName: string;
}

export interface TenantArgs {
    /** Namespace of the tenant's SecretStore and synced Secrets (created). */
    namespace: string;
    /**
     * Service account ESO requests a token for when the tenant's SecretStore logs in; the role is
     * bound to exactly this name in exactly this namespace.
     * @default - "vault-secret-reader"
     */
    readerAccount?: string;
    /** The tenant's Vault role, and its policy of the same name. */
    roleName: string;
    /** Kubernetes auth mount in Vault. */
    authMountPath: pulumi.Input<string>;
    /** Logins work once the mount can review tokens: the mount's config resource. */
    authReady: pulumi.Resource;
    /** Token TTL / max TTL in seconds, and the audience the reader's JWT must carry. */
    tokenTtlSeconds: number;
    tokenMaxTtlSeconds: number;
    audience: string;
    /** KV v2 mount the secrets live in (plain: the policy is rendered from it at preview). */
    kvMount: string;
    secrets: TenantSecret[];
    /** A dockerconfigjson pull secret templated from a KV entry with `username` and `password`. @default - none */
    pullSecret?: { name: string; path: string; server: string };
    /** Vault URL as ESO reaches it, and the PEM CA of its certificate (@default - system roots). */
    vaultAddress: pulumi.Input<string>;
    vaultCaCert?: pulumi.Input<string>;
    /**
     * "ClusterSecretStore": the default tenant may use one store for every namespace, logging in as
     * the ESO controller itself (bound instead of the reader).
     * @default - "SecretStore" in the tenant's namespace, logging in as its reader
     */
    storeKind?: "SecretStore" | "ClusterSecretStore";
    /** The ESO controller's identity (the ClusterSecretStore's login, and the guard's one writer). */
    esoServiceAccount: { name: string; namespace: string };
    /** What the store needs first: ESO installed (CRDs, controller) and the KV mount. */
    storeDependsOn: pulumi.Input<pulumi.Resource>[];
    /** How often ESO re-reads Vault (Go duration). */
    refreshInterval: string;
    /**
     * The resource that writes a path's value, when Pulumi seeds it: that secret's first sync waits
     * for exactly it (not for every tenant's seeds). @default - nothing to wait for
     */
    seedAt?: (path: string) => pulumi.Resource | undefined;
    /**
     * Only ESO may create or change Opaque and dockerconfigjson Secrets in the namespace
     * (tenantSecretGuard: a ValidatingAdmissionPolicy and its binding).
     * @default - true
     */
    secretGuard?: boolean;
    /**
     * The policy the role hands out, owned by someone else: a spoke's hub owns one reader policy per
     * spoke (read below `<spoke prefix>/<namespace>/`), and the spoke writes no policy.
     * @default - a policy named `roleName`, generated from exactly the tenant's paths
     */
    readerPolicy?: string;
    /** Names of the state before the Tenant component. @default - none (a new tenant) */
    legacy?: TenantLegacyNames;
    /**
     * "wrapped" for a tenant the state holds with a component around its store and around each
     * ExternalSecret (components/tenants/layout.ts); the flat layout declares the same objects
     * without those components (three whole-state writes each).
     * @default - "flat"
     */
    layout?: TenantLayout;
}

/**
 * The platform's unit: a namespace with its reader, a Vault role bound to exactly that reader and a
 * policy generated from exactly its declared paths (on a spoke: its hub's reader policy, which grants
 * the namespace's folder), its SecretStore and ExternalSecrets, and the guard that keeps hand-made
 * Secrets out. The default tenant (appNamespace + appSecrets) is one too.
 * Pass the Vault provider through `providers` (or `provider`) in opts.
 */
export class Tenant extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    public readonly readerAccount: pulumi.Output<string>;
    public readonly roleName: pulumi.Output<string>;
    public readonly policyName: pulumi.Output<string>;
    public readonly storeName: pulumi.Output<string>;
    public readonly storeKind: "SecretStore" | "ClusterSecretStore";
    /** Names of the synced Secrets (the pull secret last, when declared). */
    public readonly secretNames: pulumi.Output<string[]>;
    public readonly pullSecretName?: pulumi.Output<string>;
    /** The ExternalSecret of the pull secret (or its component), for workloads that must wait for it. */
    public readonly pullSecret?: pulumi.Resource;
    public readonly layout: TenantLayout;

    constructor(name: string, args: TenantArgs, opts?: pulumi.ComponentResourceOptions) {
        const legacy = args.legacy;
        const root = pulumi.rootStackResource;
        super("platform:tenants:Tenant", name, {}, pulumi.mergeOptions(opts, {
            // Before: an AppNamespace component of this name, whose children (the namespace and the
            // reader) now belong to the Tenant under the same derived names.
            aliases: legacy ? [{ name: legacy.namespaceComponent, type: "platform:apps:AppNamespace", parent: root }] : [],
        }));
        validate(args);
        const kind = args.storeKind ?? "SecretStore";
        const clusterStore = kind === "ClusterSecretStore";
        this.storeKind = kind;

        const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: args.namespace } }, { parent: this });
        const reader = new k8s.core.v1.ServiceAccount(
            `${name}-reader`,
            // Only ESO uses it, through the TokenRequest API; no pod mounts its token.
            { metadata: { name: args.readerAccount ?? "vault-secret-reader", namespace: ns.metadata.name }, automountServiceAccountToken: false },
            { parent: this },
        );

        const wasUnderAuth = (suffix: string) => (legacy ? [{ name: `${legacy.authName}-${args.roleName}-${suffix}`, parent: legacy.auth }] : []);
        const policyName = args.readerPolicy
            ? pulumi.output(args.readerPolicy)
            : new vault.Policy(
                  `${name}-policy`,
                  { name: args.roleName, policy: renderKvReadPolicy(tenantPaths(args).map((path) => ({ mount: args.kvMount, path }))) },
                  { parent: this, aliases: wasUnderAuth("policy") },
              ).name;
        const role = new vault.kubernetes.AuthBackendRole(
            `${name}-role`,
            {
                backend: args.authMountPath,
                roleName: args.roleName,
                boundServiceAccountNames: [clusterStore ? args.esoServiceAccount.name : args.readerAccount ?? "vault-secret-reader"],
                boundServiceAccountNamespaces: [clusterStore ? args.esoServiceAccount.namespace : args.namespace],
                tokenPolicies: [policyName],
                tokenTtl: args.tokenTtlSeconds,
                tokenMaxTtl: args.tokenMaxTtlSeconds,
                audience: args.audience,
            },
            { parent: this, dependsOn: [args.authReady], aliases: wasUnderAuth("role") },
        );

        // Flat: the custom resources are the Tenant's children, under the names they have in the
        // wrapped layout; the alias from there keeps them should the record of layouts be lost.
        const wrapped = args.layout === "wrapped";
        this.layout = wrapped ? "wrapped" : "flat";
        const underWrapper = (wrapperName: string, wrapperType: string) => [{ parent: pulumi.createUrn(wrapperName, wrapperType, this) }];
        const storeArgs = {
            kind,
            name: "vault",
            namespace: clusterStore ? undefined : ns.metadata.name,
            server: args.vaultAddress,
            kvMount: args.kvMount,
            authMountPath: args.authMountPath,
            role: role.roleName,
            serviceAccount: clusterStore ? { name: args.esoServiceAccount.name, namespace: args.esoServiceAccount.namespace } : { name: reader.metadata.name },
            audience: args.audience,
            caCert: args.vaultCaCert,
        };
        const storeDependsOn = [...args.storeDependsOn, role];
        const storeName = wrapped
            ? new VaultSecretStore(`${name}-store`, storeArgs, { parent: this, dependsOn: storeDependsOn, aliases: legacy ? [{ name: legacy.storeComponent, parent: root }] : [] }).name
            : secretStoreResource(`${name}-store`, storeArgs, { parent: this, dependsOn: storeDependsOn, aliases: underWrapper(`${name}-store`, "platform:externalSecrets:VaultSecretStore") }).metadata.name;

        if (args.secretGuard ?? true) {
            tenantSecretGuard(`${name}-guard`, { namespace: ns.metadata.name, esoServiceAccount: args.esoServiceAccount }, this);
        }

        const base = { namespace: ns.metadata.name, storeRef: { name: storeName, kind }, refreshInterval: args.refreshInterval };
        // A seeded secret's first sync waits for exactly its KV entry.
        const seed = (path: string) => [args.seedAt?.(path)].filter((r): r is pulumi.Resource => r !== undefined);
        const declare = (secret: string, esArgs: ExternalSecretArgs, path: string): { resource: pulumi.Resource; secretName: pulumi.Output<string> } => {
            const esName = `${name}-${secret}`;
            if (wrapped) {
                const es = new ExternalSecret(esName, esArgs, { parent: this, dependsOn: seed(path), aliases: legacy ? [{ name: `${legacy.secretPrefix}-${secret}`, parent: root }] : [] });
                return { resource: es, secretName: es.secretName };
            }
            const es = externalSecretResource(esName, esArgs, { parent: this, dependsOn: seed(path), aliases: underWrapper(esName, "platform:externalSecrets:ExternalSecret") });
            return { resource: es, secretName: es.metadata.name };
        };
        const synced = args.secrets.map((s) => declare(s.name, plainSecretArgs({ ...base, name: s.name }, s.path, s.keys), s.path));
        if (args.pullSecret) {
            const pull = declare("pull-secret", dockerConfigSecretArgs({ ...base, name: args.pullSecret.name }, args.pullSecret.path, args.pullSecret.server), args.pullSecret.path);
            this.pullSecret = pull.resource;
            this.pullSecretName = pull.secretName;
            synced.push(pull);
        }

        this.namespace = ns.metadata.name;
        this.readerAccount = reader.metadata.name;
        this.roleName = role.roleName;
        this.policyName = policyName;
        this.storeName = storeName;
        this.secretNames = pulumi.all(synced.map((s) => s.secretName));
        this.registerOutputs({
            namespace: this.namespace,
            readerAccount: this.readerAccount,
            roleName: this.roleName,
            policyName: this.policyName,
            storeName: this.storeName,
            secretNames: this.secretNames,
        });
    }
}

/** Every KV path the tenant reads: exactly what its policy grants. */
export function tenantPaths(args: Pick<TenantArgs, "secrets" | "pullSecret">): string[] {
    return [...new Set([...args.secrets.map((s) => s.path), ...(args.pullSecret ? [args.pullSecret.path] : [])])];
}

function validate(args: TenantArgs): void {
    const errors: pulumi.InputPropertyErrorDetails[] = [];
    const add = (propertyPath: string, reason: string | undefined) => reason && errors.push({ propertyPath, reason });
    add("namespace", checkDnsLabel(args.namespace));
    if (tenantPaths(args).length === 0) add("secrets", "declare at least one secret (an empty read policy would be useless)");
    const names = args.secrets.map((s) => s.name);
    names.forEach((n, i) => names.indexOf(n) !== i && add(`secrets[${i}].name`, `"${n}" is declared twice`));
    if (errors.length > 0) throw new pulumi.InputPropertiesError({ message: "invalid Tenant arguments", errors });
}

// The secrets platform: Vault (or OpenBao) + external-secrets, wired together for one environment.
// Everything is validated before any resource is declared; see README.md for the config reference.
import * as pulumi from "@pulumi/pulumi";
import { AppNamespace } from "./components/apps/namespace";
import { DemoWorkload } from "./components/apps/demoWorkload";
import { isAutoUnseal, loadConfig } from "./components/config";
import { ExternalSecret, dockerConfigSecretArgs, plainSecretArgs } from "./components/externalSecrets/externalSecret";
import { ExternalSecretsOperator } from "./components/externalSecrets/operator";
import { VaultSecretStore } from "./components/externalSecrets/secretStore";
import { KubernetesAuth } from "./components/vault/kubernetesAuth";
import { KvEngine } from "./components/vault/kv";
import { renderKvReadPolicy } from "./components/vault/policy";
import { VaultServer } from "./components/vault/server";
import { TokenReviewer } from "./components/vault/tokenReviewer";

const cfg = loadConfig();
const prefix = "platform";

// The KV entries Pulumi writes: random passwords for `seed: random` secrets, the registry credentials.
const seeds = [
    ...cfg.apps.secrets
        .filter((s) => s.seed === "random")
        .map((s) => ({ path: s.path, values: Object.fromEntries(s.keys.map((k) => [k, undefined])) })),
    ...(cfg.registry.enabled
        ? [{ path: cfg.registry.path, values: { username: cfg.registry.username, password: cfg.registry.password } }]
        : []),
    ...cfg.tenants.flatMap((t) =>
        t.secrets
            .filter((s) => s.seed === "random")
            .map((s) => ({ path: s.path, values: Object.fromEntries(s.keys.map((k) => [k, undefined])) })),
    ),
];

const vaultServer = new VaultServer(prefix, {
    mode: cfg.vault.mode,
    namespace: cfg.vault.namespace,
    createNamespace: cfg.vault.createNamespace,
    chart: cfg.vault.chart,
    serviceAccount: cfg.vault.serviceAccount,
    ha: cfg.vault.ha,
    replicas: cfg.vault.replicas,
    podAntiAffinity: cfg.vault.podAntiAffinity,
    ui: cfg.vault.ui,
    injector: cfg.vault.injector,
    tlsSecretName: cfg.vault.tlsSecretName,
    storageSize: cfg.vault.storageSize,
    image: cfg.vault.image,
    address: cfg.vault.address,
    caCertFile: cfg.vault.caCertFile,
    caCert: cfg.vault.caCert,
    seal: cfg.vault.seal,
    secretShares: cfg.vault.secretShares,
    secretThreshold: cfg.vault.secretThreshold,
    adoptUnsealKeys: cfg.vault.adoptUnsealKeys,
    adoptRootToken: cfg.vault.adoptRootToken,
    // The admin token the Vault provider uses may manage exactly these (README "Who holds what").
    manages: {
        authMounts: [cfg.auth.mountPath],
        kvMounts: [{ path: cfg.kv.path, seedPaths: seeds.map((s) => s.path) }],
    },
    localPort: cfg.vault.localPort,
    audit: cfg.vault.audit,
    flavor: cfg.vault.flavor,
});
const vaultOpts = { provider: vaultServer.provider };

// Vault's own service account reviews the tokens ESO presents; it exists once the server does.
const reviewer = new TokenReviewer(
    `${prefix}-reviewer`,
    { namespace: vaultServer.namespace, serviceAccountName: vaultServer.serviceAccountName },
    { dependsOn: [vaultServer] },
);

const kv = new KvEngine(
    `${prefix}-kv`,
    {
        path: cfg.kv.path,
        seeds,
    },
    vaultOpts,
);

const operator = new ExternalSecretsOperator(`${prefix}-eso`, {
    namespace: cfg.eso.namespace,
    chart: cfg.eso.chart,
    serviceAccountName: cfg.eso.serviceAccount,
    webhook: cfg.eso.webhook,
    certController: cfg.eso.certController,
    skipAwait: cfg.eso.skipAwait,
});

const readerServiceAccount = "vault-secret-reader";
const apps = new AppNamespace(`${prefix}-apps`, { name: cfg.apps.namespace, readerAccount: readerServiceAccount });

// ESO logs in as the app namespace's reader (SecretStore) or as its own controller (ClusterSecretStore).
const clusterStore = cfg.eso.storeKind === "ClusterSecretStore";
const declaredPaths = [...cfg.apps.secrets.map((s) => s.path), ...(cfg.registry.enabled ? [cfg.registry.path] : [])];
// Tenants besides the default one: a role bound to exactly their reader and namespace, with a
// policy generated from exactly their declared paths (below their own kvPrefix).
const tenantRole = (tenant: string) => `${cfg.auth.roleName}-${tenant}`;
const tenantRoles = cfg.tenants.map((t) => ({
    name: tenantRole(t.name),
    serviceAccountNames: [readerServiceAccount],
    namespaces: [t.namespace],
    policyHcl: renderKvReadPolicy(t.secrets.map((s) => ({ mount: cfg.kv.path, path: s.path }))),
    tokenTtlSeconds: cfg.auth.tokenTtlSeconds,
    tokenMaxTtlSeconds: cfg.auth.tokenMaxTtlSeconds,
    audience: cfg.auth.audience,
}));
const auth = new KubernetesAuth(
    `${prefix}-auth`,
    {
        mountPath: cfg.auth.mountPath,
        kubernetesHost: cfg.auth.kubernetesHost,
        kubernetesCaCert: cfg.auth.kubernetesCaCert ?? reviewer.caCert,
        tokenReviewerJwt: reviewer.jwt,
        issuer: cfg.auth.issuer,
        roles: [
            {
                name: cfg.auth.roleName,
                serviceAccountNames: [clusterStore ? cfg.eso.serviceAccount : readerServiceAccount],
                namespaces: [clusterStore ? cfg.eso.namespace : cfg.apps.namespace],
                policyHcl: renderKvReadPolicy(declaredPaths.map((path) => ({ mount: cfg.kv.path, path }))),
                tokenTtlSeconds: cfg.auth.tokenTtlSeconds,
                tokenMaxTtlSeconds: cfg.auth.tokenMaxTtlSeconds,
                audience: cfg.auth.audience,
            },
            ...tenantRoles,
        ],
    },
    { ...vaultOpts, dependsOn: [reviewer.clusterRoleBinding] },
);

const store = new VaultSecretStore(
    `${prefix}-store`,
    {
        kind: cfg.eso.storeKind,
        name: "vault",
        namespace: clusterStore ? undefined : apps.name,
        server: vaultServer.clusterAddress,
        kvMount: kv.path,
        authMountPath: auth.path,
        role: cfg.auth.roleName,
        serviceAccount: clusterStore
            ? { name: cfg.eso.serviceAccount, namespace: operator.namespace }
            : { name: apps.readerAccount },
        audience: cfg.auth.audience,
        caCert: cfg.vault.caCert,
    },
    { dependsOn: [operator.chart, auth] },
);

const storeRef = { name: store.name, kind: store.kind };
const base = { namespace: apps.name, storeRef, refreshInterval: cfg.eso.refreshInterval };
// The seeded KV entries must exist before ESO reads them, or the first sync fails.
const secretOpts = { dependsOn: [kv] };
const synced = cfg.apps.secrets.map(
    (s) => new ExternalSecret(`${prefix}-${s.name}`, plainSecretArgs({ ...base, name: s.name }, s.path, s.keys), secretOpts),
);
if (cfg.registry.enabled) {
    const pullSecret = new ExternalSecret(
        `${prefix}-pull-secret`,
        dockerConfigSecretArgs({ ...base, name: cfg.registry.secretName }, cfg.registry.path, cfg.registry.server),
        secretOpts,
    );
    synced.push(pullSecret);
    if (cfg.demo.enabled) {
        new DemoWorkload(`${prefix}-demo`, { namespace: apps.name, image: cfg.demo.image, pullSecretName: pullSecret.secretName }, { dependsOn: [pullSecret] });
    }
}

// Each tenant: namespace + reader, its own SecretStore, its ExternalSecrets. Removing a tenant from
// config removes these and its role/policy; its KV entries stay (KvEngine retains them).
const tenants = cfg.tenants.map((t) => {
    const ns = new AppNamespace(`${prefix}-tenant-${t.name}`, { name: t.namespace, readerAccount: readerServiceAccount });
    const tenantStore = new VaultSecretStore(
        `${prefix}-tenant-${t.name}-store`,
        {
            kind: "SecretStore",
            name: "vault",
            namespace: ns.name,
            server: vaultServer.clusterAddress,
            kvMount: kv.path,
            authMountPath: auth.path,
            role: tenantRole(t.name),
            serviceAccount: { name: ns.readerAccount },
            audience: cfg.auth.audience,
            caCert: cfg.vault.caCert,
        },
        { dependsOn: [operator.chart, auth] },
    );
    const tenantBase = { namespace: ns.name, storeRef: { name: tenantStore.name, kind: tenantStore.kind }, refreshInterval: cfg.eso.refreshInterval };
    const secrets = t.secrets.map(
        (s) => new ExternalSecret(`${prefix}-tenant-${t.name}-${s.name}`, plainSecretArgs({ ...tenantBase, name: s.name }, s.path, s.keys), secretOpts),
    );
    return { name: t.name, namespace: ns.name, role: tenantRole(t.name), secrets: pulumi.all(secrets.map((s) => s.secretName)) };
});

export const environment = cfg.environment;
export const vaultAddress = vaultServer.clusterAddress;
export const vaultNamespace = vaultServer.namespace;
export const externalSecretsNamespace = operator.namespace;
export const appNamespace = apps.name;
export const secretStore = pulumi.interpolate`${store.kind}/${store.name}`;
export const syncedSecrets = pulumi.all(synced.map((s) => s.secretName));
export const vaultPolicies = auth.policyNames;
export const tenantStores = pulumi.all(tenants.map((t) => pulumi.output({ name: t.name, namespace: t.namespace, role: t.role, secrets: t.secrets })));
// Secrets: shown only with `pulumi stack output --show-secrets`.
// No root token: Vault is managed with a scoped admin token (README "Who holds what").
export const vaultAdminToken = vaultServer.adminToken;
// Shamir: the unseal keys. Auto-unseal (vaultSeal): the same shares are recovery keys (they authorise
// generate-root and seal migration, they cannot unseal), so they are exported under that name.
export const vaultUnsealKeys = isAutoUnseal(cfg.vault.seal) ? undefined : vaultServer.unsealKeys;
export const vaultRecoveryKeys = isAutoUnseal(cfg.vault.seal) ? vaultServer.unsealKeys : undefined;

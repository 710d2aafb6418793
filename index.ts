// The secrets platform: Vault (or OpenBao) + external-secrets, wired together for one environment.
// Everything is validated before any resource is declared; see README.md for the config reference.
// First: cheaper stack traces while the SDK registers resources (components/stackTraces.ts).
import "./components/stackTraces";
import * as pulumi from "@pulumi/pulumi";
import { DemoWorkload } from "./components/apps/demoWorkload";
import { HubConnection } from "./components/fleet/hubConnection";
import { SpokeAccess } from "./components/fleet/spokeAccess";
import { DEFAULT_TENANT, isAutoUnseal, loadConfig } from "./components/config";
import { ExternalSecretsOperator } from "./components/externalSecrets/operator";
import { LAYOUTS_OUTPUT, recordedTenantLayouts } from "./components/tenants/layout";
import { Tenant } from "./components/tenants/tenant";
import { KubernetesAuth } from "./components/vault/kubernetesAuth";
import { spokeReaderPolicyName } from "./components/vault/policy";
import { KvEngine } from "./components/vault/kv";
import { VaultServer } from "./components/vault/server";
import { TokenReviewer } from "./components/vault/tokenReviewer";

// Config errors throw here, when the program loads, before any resource is declared.
const cfg = loadConfig();
const prefix = "platform";

// Async: the tenants wait for this stack's record of their layouts (its own last outputs).
export = async () => {
    // Read while the Vault side is declared; the tenants wait for it (components/tenants/layout.ts).
    const recordedLayouts = recordedTenantLayouts();


    // The KV entries Pulumi writes: random passwords for `seed: random` secrets, the registry credentials.
    const seedsOf = (secrets: { path: string; keys: string[]; seed: string }[]) =>
        secrets.filter((s) => s.seed === "random").map((s) => ({ path: s.path, values: Object.fromEntries(s.keys.map((k) => [k, undefined])) }));
    const defaultSeeds = [
        ...seedsOf(cfg.apps.secrets),
        ...(cfg.registry.enabled ? [{ path: cfg.registry.path, values: { username: cfg.registry.username, password: cfg.registry.password } }] : []),
    ];
    // The admin token writes the default tenant's seeded entries by path, and below each seeding
    // tenant's kvPrefix: a tenant's new seeded secret leaves the admin policy (and its step) alone.
    const tenantSeedPrefixes = cfg.tenants.filter((t) => t.secrets.some((s) => s.seed === "random")).map((t) => t.kvPrefix);
    const defaultSeedPaths = defaultSeeds.map((s) => s.path);

    // A hub or a single cluster runs (or adopts) its Vault; a spoke uses its hub's with the hub's token for it.
    const hub = cfg.hub
        ? new HubConnection(`${prefix}-hub`, { spokeName: cfg.hub.spokeName, hubStack: cfg.hub.stack, address: cfg.vault.address, token: cfg.hub.token, kvMount: cfg.kv.path, kvPrefix: cfg.hub.kvPrefix, caCertFile: cfg.vault.caCertFile })
        : undefined;
    const vaultServer = hub
        ? undefined
        : new VaultServer(prefix, {
            mode: cfg.vault.mode as "chart" | "external",
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
                kvMounts: [{ path: cfg.kv.path, seedPaths: defaultSeedPaths, seedPrefixes: tenantSeedPrefixes }],
                // Declared (even empty): the last spoke's token must still be revocable when it leaves.
                spokeTokens: cfg.spokes !== undefined,
            },
            localPort: cfg.vault.localPort,
            audit: cfg.vault.audit,
            flavor: cfg.vault.flavor,
          });
    const vaultProvider = hub?.provider ?? vaultServer!.provider;
    const vaultOpts = { provider: vaultProvider };

    // Vault's own service account reviews the tokens ESO presents; it exists once the server does. A
    // spoke has no Vault in its cluster: an account of its own in kube-system does the reviews.
    const reviewer = vaultServer
        ? new TokenReviewer(`${prefix}-reviewer`, { namespace: vaultServer.namespace, serviceAccountName: vaultServer.serviceAccountName }, { dependsOn: [vaultServer.serviceAccountReady] })
        : new TokenReviewer(`${prefix}-reviewer`, { namespace: "kube-system", serviceAccountName: `vault-token-reviewer-${cfg.hub!.spokeName}`, createServiceAccount: true });

    // External Vault or a spoke, first up: Vault serves before the program starts, so the Vault side
    // (mount, auth, every tenant's seeds) is ready to go at once. ESO's chart puts ~2.2 MB of CRDs into
    // the state, and the DIY backend rewrites the whole state file at every step: ESO after the Vault
    // side makes those steps cheap (docs/scale.md). Once deployed, the CRDs are in the state whatever
    // the order, and waiting would only hold the chart's steps back. In chart mode ESO's pod starts
    // while Vault's pod does.
    let vaultSideDeclared!: (side: pulumi.Resource[]) => void;
    const vaultSide = new Promise<pulumi.Resource[]>((resolve) => (vaultSideDeclared = resolve));
    const esoAfterVault = cfg.vault.mode !== "chart" ? recordedLayouts.then((r) => (r.deployed ? [] : vaultSide)) : undefined;
    // A tenant shard's tenants use the ESO its hub's stack runs in this cluster.
    const operator = cfg.tenantShard ? undefined : new ExternalSecretsOperator(`${prefix}-eso`, {
        after: esoAfterVault,
        namespace: cfg.eso.namespace,
        chart: cfg.eso.chart,
        serviceAccountName: cfg.eso.serviceAccount,
        webhook: cfg.eso.webhook,
        certController: cfg.eso.certController,
        skipAwait: cfg.eso.skipAwait,
        concurrent: cfg.eso.concurrent,
        vaultTokenCache: cfg.eso.vaultTokenCache,
    });

    const auth = new KubernetesAuth(
        `${prefix}-auth`,
        {
            mountPath: cfg.auth.mountPath,
            // A spoke configures the mount its hub enabled for it (SpokeAccess).
            manageMount: !hub,
            kubernetesHost: cfg.auth.kubernetesHost,
            kubernetesCaCert: cfg.auth.kubernetesCaCert ?? reviewer.caCert,
            tokenReviewerJwt: reviewer.jwt,
            issuer: cfg.auth.issuer,
        },
        { ...vaultOpts, dependsOn: [reviewer.clusterRoleBinding] },
    );

    // The engine starts steps in declaration order: the auth chain and ESO above come first, then the
    // mount and, tenant by tenant, its seeds right before the tenant (KvEngine.addSeeds).
    const kv = new KvEngine(`${prefix}-kv`, { path: cfg.kv.path, seeds: defaultSeeds, manageMount: !hub }, vaultOpts);

    // Every tenant, the default one (appNamespace + appSecrets, the registry pull secret) first. Removing
    // a tenant from config removes its resources; its KV entries stay (KvEngine retains them).
    const esoServiceAccount = { name: cfg.eso.serviceAccount, namespace: cfg.eso.namespace };
    const shared = {
        authMountPath: auth.path,
        authReady: auth.config,
        tokenTtlSeconds: cfg.auth.tokenTtlSeconds,
        tokenMaxTtlSeconds: cfg.auth.tokenMaxTtlSeconds,
        audience: cfg.auth.audience,
        kvMount: cfg.kv.path,
        vaultAddress: hub?.address ?? vaultServer!.clusterAddress,
        vaultCaCert: cfg.vault.caCert,
        esoServiceAccount,
        storeDependsOn: [operator?.chart, kv.mount].filter((r): r is NonNullable<typeof r> => r !== undefined),
        refreshInterval: cfg.eso.refreshInterval,
        // A seeded KV entry must exist before ESO reads it, or the first sync fails.
        seedAt: (path: string) => kv.seedAt(path),
        secretGuard: cfg.tenantSecretGuard,
        // A spoke's roles hand out its hub's one reader policy; it writes no policy of its own.
        readerPolicy: cfg.hub ? spokeReaderPolicyName(cfg.hub.spokeName) : undefined,
    };
    // Names from before the Tenant component: aliases keep existing stacks' state (0 changes on upgrade).
    const legacy = (namespaceComponent: string, storeComponent: string, secretPrefix: string) => ({ namespaceComponent, storeComponent, secretPrefix, auth, authName: `${prefix}-auth` });
    const tenantOpts = { providers: [vaultProvider] };
    const { layoutOf } = await recordedLayouts;
    // A tenant shard has none: all its tenants are in `tenants`.
    const defaultTenant = cfg.tenantShard ? undefined : new Tenant(
        `${prefix}-tenant-${DEFAULT_TENANT}`,
        {
            ...shared,
            namespace: cfg.apps.namespace,
            roleName: cfg.auth.roleName,
            secrets: cfg.apps.secrets,
            pullSecret: cfg.registry.enabled ? { name: cfg.registry.secretName, path: cfg.registry.path, server: cfg.registry.server } : undefined,
            storeKind: cfg.eso.storeKind,
            legacy: legacy(`${prefix}-apps`, `${prefix}-store`, prefix),
            layout: layoutOf(DEFAULT_TENANT),
        },
        tenantOpts,
    );
    if (defaultTenant?.pullSecret && cfg.demo.enabled) {
        new DemoWorkload(`${prefix}-demo`, { namespace: defaultTenant.namespace, image: cfg.demo.image, pullSecretName: defaultTenant.pullSecretName! }, { dependsOn: [defaultTenant.pullSecret] });
    }
    const tenants = cfg.tenants.map((t) => {
        kv.addSeeds(seedsOf(t.secrets));
        const name = `${prefix}-tenant-${t.name}`;
        const tenant = new Tenant(name, { ...shared, namespace: t.namespace, roleName: `${cfg.auth.roleName}-${t.name}`, secrets: t.secrets, legacy: legacy(name, `${name}-store`, name), layout: layoutOf(t.name) }, tenantOpts);
        return { name: t.name, tenant };
    });

    // Every seed is declared now (a component in dependsOn stands for the children it has when it resolves).
    vaultSideDeclared([auth, kv]);

    // Hub: per spoke a scope policy, a token role and the spoke's token (README "One Vault, many clusters").
    const spokes = (cfg.spokes ?? []).map((sp) => ({ spec: sp, access: new SpokeAccess(`${prefix}-spoke-${sp.name}`, { name: sp.name, kvMount: cfg.kv.path, kvPrefix: sp.kvPrefix }, { providers: [vaultProvider], dependsOn: kv.mount ? [kv.mount] : [] }) }));

    const environment = cfg.environment;
    const vaultAddress = hub?.address ?? vaultServer!.clusterAddress;
    const vaultNamespace = vaultServer?.namespace;
    const hubSpoke = cfg.hub ? { name: cfg.hub.spokeName, hubStack: cfg.hub.stack, authMountPath: cfg.auth.mountPath, kvPrefix: cfg.hub.kvPrefix } : undefined;
    const externalSecretsNamespace = operator?.namespace ?? cfg.eso.namespace;
    const appNamespace = defaultTenant?.namespace;
    const secretStore = defaultTenant && pulumi.interpolate`${defaultTenant.storeKind}/${defaultTenant.storeName}`;
    const syncedSecrets = defaultTenant?.secretNames;
    const everyTenant = [...(defaultTenant ? [{ name: DEFAULT_TENANT, tenant: defaultTenant }] : []), ...tenants];
    // A spoke's tenants share their hub's reader policy: each name once.
    const vaultPolicies = pulumi.all(everyTenant.map((t) => t.tenant.policyName)).apply((names) => [...new Set(names)]);
    const tenantStores = pulumi.all(tenants.map((t) => pulumi.output({ name: t.name, namespace: t.tenant.namespace, role: t.tenant.roleName, secrets: t.tenant.secretNames })));
    // Secrets: shown only with `pulumi stack output --show-secrets`.
    // No root token: Vault is managed with a scoped admin token (README "Who holds what").
    const vaultAdminToken = vaultServer?.adminToken;
    // Shamir: the unseal keys. Auto-unseal (vaultSeal): the same shares are recovery keys (they authorise
    // generate-root and seal migration, they cannot unseal), so they are exported under that name.
    const vaultUnsealKeys = isAutoUnseal(cfg.vault.seal) ? undefined : vaultServer?.unsealKeys;
    const vaultRecoveryKeys = isAutoUnseal(cfg.vault.seal) ? vaultServer?.unsealKeys : undefined;
    // Hub: what each spoke's stack needs (its token is a secret: `pulumi stack output spokeTokens --show-secrets`).
    // `stack`: the fleet runner destroys a spoke's stack when the spoke leaves the fleet file.
    const spokeEndpoints = spokes.length
        ? pulumi.output(Object.fromEntries(spokes.map((s) => [s.spec.name, { vaultAddress: cfg.spokesVaultAddress ?? vaultServer!.providerAddress, vaultVersion: pulumi.unsecret(vaultServer!.init.vaultVersion), authMountPath: s.access.authMountPath, readerPolicy: s.access.readerPolicyName, kvMount: cfg.kv.path, kvPrefix: s.access.kvPrefix, stack: s.spec.stack }])))
        : undefined;
    const spokeTokens = spokes.length ? pulumi.secret(pulumi.output(Object.fromEntries(spokes.map((s) => [s.spec.name, s.access.token])))) : undefined;
    // Each tenant's layout, for the next run (components/tenants/layout.ts).
    const tenantLayouts = Object.fromEntries(everyTenant.map((t) => [t.name, t.tenant.layout]));

    // Mode-specific outputs (a hub's, Shamir's or auto-unseal's) are left out when they do not apply.
    const outputs = {
        environment,
        vaultAddress,
        vaultNamespace,
        hubSpoke,
        externalSecretsNamespace,
        appNamespace,
        secretStore,
        syncedSecrets,
        vaultPolicies,
        tenantStores,
        vaultAdminToken,
        vaultUnsealKeys,
        vaultRecoveryKeys,
        spokeEndpoints,
        spokeTokens,
        [LAYOUTS_OUTPUT]: tenantLayouts,
    };
    return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined));
};

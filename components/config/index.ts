import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import { DEFAULTS } from "./defaults";
import { unknownKeyProblems } from "./keys";
import { ConfigReader } from "./reader";
import type { PlatformConfig } from "./types";
import { spokeMountPath } from "../vault/policy";
import { checkDnsLabel, checkDnsSubdomain, checkDuration, checkUrl, checkVaultPath, isUnder, parseDuration } from "./validators";

export { DEFAULTS } from "./defaults";
export { CONFIG_KEYS, closestKey } from "./keys";
export * from "./types";
export * from "./validators";
export { SEAL_TYPES, isAutoUnseal } from "./seal";

/**
 * Reads and validates the whole stack configuration.
 * @throws ConfigError listing every problem, each with its config key and the fix.
 */
export function loadConfig(config: pulumi.Config = new pulumi.Config()): PlatformConfig {
    const r = new ConfigReader(config);
    const d = DEFAULTS;
    // Keys of our namespace that nothing reads: typos such as vaultHA (for vaultHa) would be ignored.
    for (const u of unknownKeyProblems(config.name, Object.keys(pulumi.runtime.allConfig()))) r.problem(u.key, u.reason);

    const environment = r.string("environment", pulumi.getStack(), checkDnsLabel);
    const vaultMode = r.oneOf("vaultMode", d.vaultMode, ["chart", "external", "spoke"] as const);
    const hub = readHub(r, config, vaultMode);
    const vaultNamespace = r.string("vaultNamespace", d.vaultNamespace, checkDnsLabel);
    const ha = r.boolean("vaultHa", d.vaultHa);
    const replicas = r.integer("vaultReplicas", d.vaultReplicas, 1, 9);
    if (ha && replicas < 3) r.problem("vaultReplicas", `HA with raft needs at least 3 replicas for quorum, got ${replicas}; set it to 3 or 5`);
    if (ha && replicas % 2 === 0) r.problem("vaultReplicas", `${replicas} replicas tolerate no more failures than ${replicas - 1}; use an odd number (3 or 5)`);
    const podAntiAffinity = r.oneOf("vaultPodAntiAffinity", d.vaultPodAntiAffinity, ["required", "preferred"] as const);

    const secretShares = r.integer("vaultSecretShares", d.vaultSecretShares, 1, 10);
    const secretThreshold = r.integer("vaultSecretThreshold", d.vaultSecretThreshold, 1, 10);
    if (secretThreshold > secretShares) {
        r.problem("vaultSecretThreshold", `threshold ${secretThreshold} is greater than vaultSecretShares ${secretShares}; choose a threshold ≤ shares (e.g. 3 of 5)`);
    }
    if (secretShares > 1 && secretThreshold < 2) {
        r.problem("vaultSecretThreshold", `threshold 1 of ${secretShares} shares lets any single key holder unseal; use at least 2`);
    }

    const seal = r.seal("vaultSeal", vaultMode);

    const address = r.optionalString("vaultAddress", (v) => checkUrl(v, ["http", "https"]));
    if (vaultMode === "external" && !address) r.problem("vaultAddress", `required when vaultMode is "external": set it with \`pulumi config set vaultAddress https://vault.example.com:8200\``);
    if (vaultMode === "chart" && address) r.problem("vaultAddress", `only used when vaultMode is "external" or "spoke"; remove it or set vaultMode to "external"`);
    if (hub && !hub.stack && !address) r.problem("vaultAddress", `a spoke needs its hub: set hubStack (org/project/stack of the hub) or vaultAddress and hubToken (a hub outside Pulumi)`);

    // A registry host may carry a port ("registry.example.com:5000/openbao/openbao:2.7.2"); the tag is after the last colon.
    const image = r.optionalString("vaultImage", (v) => (/^[^\s@]+:[A-Za-z0-9_.-]+$/.test(v) ? undefined : `"${v}" must be "repository:tag" with an explicit tag`));
    const flavorSet = r.optionalString("vaultFlavor", (v) => (v === "vault" || v === "openbao" ? undefined : `"${v}" is not a server: use "vault" (HashiCorp Vault) or "openbao"`));
    const adoptKeys = r.optionalSecretObject<string[]>("vaultAdoptUnsealKeys");
    const adoptToken = r.optionalSecret("vaultAdoptRootToken");
    if (!!adoptKeys !== !!adoptToken) {
        r.problem(adoptKeys ? "vaultAdoptRootToken" : "vaultAdoptUnsealKeys", "adopting an existing Vault needs both vaultAdoptUnsealKeys and vaultAdoptRootToken (set both with --secret)");
    }

    const tlsSecretName = r.optionalString("vaultTlsSecret", checkDnsSubdomain);
    const caCertFile = r.optionalString("vaultCaCertFile");
    let caCert: string | undefined;
    if (caCertFile) {
        try {
            caCert = fs.readFileSync(caCertFile, "utf8");
            if (!caCert.includes("-----BEGIN CERTIFICATE-----")) r.problem("vaultCaCertFile", `${caCertFile} holds no PEM certificate`);
        } catch (e) {
            r.problem("vaultCaCertFile", `cannot read ${caCertFile} (${(e as NodeJS.ErrnoException).code}); give a path relative to the project directory`);
        }
    } else if (tlsSecretName && vaultMode === "chart") {
        r.problem("vaultCaCertFile", "required with vaultTlsSecret: the PEM CA that signed Vault's certificate, so Pulumi and external-secrets can verify it");
    }

    const tokenTtl = r.string("esoTokenTtl", d.esoTokenTtl, (v) => checkDuration(v, 60, 86400));
    const tokenMaxTtl = r.string("esoTokenMaxTtl", d.esoTokenMaxTtl, (v) => checkDuration(v, 60, 7 * 86400));
    const ttlSeconds = parseDuration(tokenTtl) ?? 0;
    const maxTtlSeconds = parseDuration(tokenMaxTtl) ?? 0;
    if (ttlSeconds > maxTtlSeconds && maxTtlSeconds > 0) r.problem("esoTokenTtl", `${tokenTtl} is longer than esoTokenMaxTtl ${tokenMaxTtl}; lower the TTL or raise the max`);

    const tenantShard = r.boolean("tenantShard", d.tenantShard);
    if (tenantShard) checkShardKeys(r, config, vaultMode);
    const kubernetesHost = r.string("kubernetesHost", d.kubernetesHost, (v) => checkUrl(v, ["https", "http"]));
    // A shard's hub reviews tokens of its own cluster: the hub's default reaches it.
    if (hub && !tenantShard && !userSet(config, "kubernetesHost")) {
        r.problem("kubernetesHost", "required on a spoke: this cluster's API server URL as the hub's Vault reaches it (TokenReview), e.g. https://api.eu-1.example.com:6443");
    }
    const esoNamespace = r.string("esoNamespace", d.esoNamespace, checkDnsLabel);
    const appNamespace = r.string("appNamespace", d.appNamespace, checkDnsLabel);
    const registryEnabled = !tenantShard && r.boolean("registryPullSecret", d.registryPullSecret);
    const registryUsername = r.optionalString("registryUsername");
    const registryPassword = r.optionalSecret("registryPassword");
    if (registryEnabled && !registryUsername) r.problem("registryUsername", "required when registryPullSecret is true: `pulumi config set registryUsername <user>` (or set registryPullSecret false)");
    if (registryEnabled && !registryPassword) r.problem("registryPassword", "required when registryPullSecret is true: `pulumi config set --secret registryPassword <token>`");

    // A spoke's defaults live below its KV prefix, in the folder of the namespace that reads them
    // (its hub's reader policy grants `<prefix>/<namespace>/*`).
    const defaultReaderNs = config.get("storeKind") === "ClusterSecretStore" ? esoNamespace : appNamespace;
    const underSpoke = (p: string) => (hub ? `${hub.kvPrefix}/${defaultReaderNs}/${p}` : p);
    // A shard has no default tenant: its tenants are all in `tenants`.
    const appSecrets = tenantShard ? [] : r.appSecrets("appSecrets", d.appSecrets.map((s) => ({ ...s, path: underSpoke(s.path) })));
    const tenants = r.tenants("tenants", hub?.kvPrefix);
    const registryPath = hub && !userSet(config, "registryPath") ? underSpoke(d.registryPath) : r.string("registryPath", d.registryPath, checkVaultPath);
    const registrySecretName = r.string("registrySecretName", d.registrySecretName, checkDnsSubdomain);
    const demo = r.boolean("demoWorkload", d.demoWorkload);
    if (demo && !registryEnabled) r.problem("demoWorkload", "the demo pulls its image through the synced pull secret: set registryPullSecret true or demoWorkload false");
    for (const s of appSecrets) {
        if (registryEnabled && s.name === registrySecretName) r.problem("appSecrets", `"${s.name}" is also registrySecretName; give it another name`);
        if (registryEnabled && s.path === registryPath) r.problem("appSecrets", `path "${s.path}" is also registryPath; use another KV path`);
    }

    const result: PlatformConfig = {
        environment,
        vault: {
            mode: vaultMode,
            namespace: vaultNamespace,
            createNamespace: r.boolean("vaultCreateNamespace", d.vaultCreateNamespace),
            serviceAccount: r.string("vaultServiceAccount", d.vaultServiceAccount, checkDnsSubdomain),
            chart: r.chart("vaultChart", d.vaultChartName, d.vaultChartRepo, d.vaultChartVersion),
            image: image ? { repository: image.slice(0, image.lastIndexOf(":")), tag: image.slice(image.lastIndexOf(":") + 1) } : undefined,
            ha,
            replicas: ha ? replicas : 1,
            podAntiAffinity,
            ui: r.boolean("vaultUi", d.vaultUi),
            injector: r.boolean("vaultInjector", d.vaultInjector),
            tlsSecretName,
            audit: r.boolean("vaultAudit", d.vaultAudit),
            flavor: (flavorSet as "vault" | "openbao" | undefined) ?? "vault",
            storageSize: r.string("vaultStorageSize", d.vaultStorageSize, (v) => (/^\d+(Mi|Gi|Ti)$/.test(v) ? undefined : `"${v}" must be a size like "10Gi"`)),
            seal,
            secretShares,
            secretThreshold,
            address,
            caCertFile,
            caCert,
            localPort: r.integer("vaultLocalPort", d.vaultLocalPort, 1024, 65535),
            adoptUnsealKeys: adoptKeys,
            adoptRootToken: adoptToken,
        },
        auth: {
            mountPath: hub && !userSet(config, "authMountPath") ? spokeMountPath(hub.spokeName) : r.string("authMountPath", d.authMountPath, checkVaultPath),
            kubernetesHost,
            kubernetesCaCert: r.optionalString("kubernetesCaCert", (v) => (v.includes("-----BEGIN CERTIFICATE-----") ? undefined : "must be a PEM certificate")),
            issuer: r.optionalString("kubernetesIssuer"),
            roleName: hub && !userSet(config, "esoRoleName") ? `${hub.spokeName}-${d.esoRoleName}` : r.string("esoRoleName", d.esoRoleName, checkDnsSubdomain),
            tokenTtlSeconds: ttlSeconds,
            tokenMaxTtlSeconds: maxTtlSeconds,
            audience: r.string("esoAudience", d.esoAudience),
        },
        kv: { path: r.string("kvPath", d.kvPath, checkVaultPath) },
        eso: {
            namespace: esoNamespace,
            chart: r.chart("esoChart", d.esoChartName, d.esoChartRepo, d.esoChartVersion),
            serviceAccount: r.string("esoServiceAccount", d.esoServiceAccount, checkDnsSubdomain),
            webhook: r.boolean("esoWebhook", d.esoWebhook),
            certController: r.boolean("esoCertController", d.esoCertController),
            skipAwait: r.boolean("esoSkipAwait", d.esoSkipAwait),
            concurrent: r.integer("esoConcurrent", d.esoConcurrent, 1, 100),
            vaultTokenCache: r.boolean("esoVaultTokenCache", d.esoVaultTokenCache),
            storeKind: r.oneOf("storeKind", d.storeKind, ["SecretStore", "ClusterSecretStore"] as const),
            refreshInterval: r.string("refreshInterval", d.refreshInterval, (v) => checkDuration(v, 10, 86400)),
        },
        apps: { namespace: appNamespace, secrets: appSecrets },
        tenants,
        tenantSecretGuard: r.boolean("tenantSecretGuard", d.tenantSecretGuard),
        spokes: r.spokes("spokes"),
        spokesVaultAddress: r.optionalString("spokesVaultAddress", (v) => checkUrl(v, ["http", "https"])),
        hub,
        tenantShard,
        registry: {
            enabled: registryEnabled,
            server: r.string("registryServer", d.registryServer, (v) => (/^[a-z0-9.-]+(:\d+)?$/.test(v) ? undefined : `"${v}" must be a registry host like "registry.gitlab.com"`)),
            path: registryPath,
            secretName: registrySecretName,
            username: registryUsername,
            password: registryPassword,
        },
        demo: { enabled: demo, image: r.string("demoImage", d.demoImage) },
    };

    checkTenants(r, result);
    checkSpokes(r, result);
    if (hub) checkSpokeScope(r, result, hub);

    // Chart mode knows the server from the chart/image; external mode is told (default HashiCorp Vault).
    const v = result.vault;
    const chartFlavor = v.mode === "chart" && (v.chart.name === "openbao" || !!v.image?.repository.includes("openbao")) ? "openbao" : "vault";
    if (v.mode === "chart" && flavorSet && flavorSet !== chartFlavor) {
        r.problem("vaultFlavor", `"${flavorSet}" contradicts the chart/image, which run ${chartFlavor}; leave vaultFlavor unset in chart mode`);
    }
    v.flavor = (flavorSet as "vault" | "openbao" | undefined) ?? chartFlavor;

    r.throwIfProblems();
    return result;
}

/** Settings of a Vault server: a spoke runs none (its hub does), so setting one is a mistake. */
const SERVER_KEYS = [
    "vaultHa", "vaultReplicas", "vaultPodAntiAffinity", "vaultSecretShares", "vaultSecretThreshold", "vaultImage", "vaultFlavor",
    "vaultAdoptUnsealKeys", "vaultAdoptRootToken", "vaultTlsSecret", "vaultAudit", "vaultStorageSize", "vaultUi", "vaultInjector",
    "vaultChartName", "vaultChartRepo", "vaultChartVersion", "vaultChartPath", "vaultLocalPort", "vaultNamespace", "vaultServiceAccount", "vaultCreateNamespace", "spokes",
    "spokesVaultAddress",
];
const SPOKE_KEYS = ["spokeName", "hubStack", "hubToken", "spokeKvPrefix"];

/** What a tenant shard leaves to its hub's stack (the ESO chart) or does not have (a default tenant). */
const SHARD_ESO_KEYS = ["esoChartName", "esoChartRepo", "esoChartVersion", "esoChartPath", "esoWebhook", "esoCertController", "esoSkipAwait", "esoConcurrent", "esoVaultTokenCache"];
// registryPullSecret is not among them: its default (true) is ignored on a shard, and false says what a shard does anyway.
const SHARD_TENANT_KEYS = ["appNamespace", "appSecrets", "registryServer", "registryPath", "registrySecretName", "registryUsername", "registryPassword", "demoWorkload", "demoImage", "storeKind"];

function checkShardKeys(r: ConfigReader, config: pulumi.Config, mode: string): void {
    if (mode !== "spoke") {
        r.problem("tenantShard", `a tenant shard is a spoke in its hub's cluster: set vaultMode "spoke" with spokeName and hubStack, or remove tenantShard`);
        return;
    }
    for (const k of SHARD_ESO_KEYS) if (userSet(config, k)) r.problem(k, `a tenant shard uses the external-secrets its hub's stack installs in this cluster; remove ${k} (set it on the hub)`);
    // The engine passes Pulumi.yaml's defaults as values: only a value other than the default is the user's.
    for (const k of SHARD_TENANT_KEYS) if (userSet(config, k)) r.problem(k, `a tenant shard has no default tenant; remove ${k} and declare the tenant under tenants`);
}

/**
 * Whether the stack sets `key` to something else than its default: Pulumi.yaml's declared defaults
 * reach the program as if set, so "set to the default" counts as not set.
 */
function userSet(config: pulumi.Config, key: string): boolean {
    const value = config.get(key);
    return value !== undefined && value !== String((DEFAULTS as Record<string, unknown>)[key]);
}

/** Spoke mode's keys: this cluster's name on the hub and how to reach the hub. */
function readHub(r: ConfigReader, config: pulumi.Config, mode: string): PlatformConfig["hub"] {
    if (mode !== "spoke") {
        for (const k of SPOKE_KEYS) if (config.get(k) !== undefined) r.problem(k, `only used when vaultMode is "spoke"; remove it or set vaultMode to "spoke"`);
        return undefined;
    }
    for (const k of SERVER_KEYS) {
        if (userSet(config, k)) r.problem(k, `a spoke runs no Vault server (its hub does)${k === "spokes" ? " and cannot have spokes of its own" : ""}; remove ${k}`);
    }
    const spokeName = r.string("spokeName", "", (v) => checkDnsLabel(v) ?? (v.length > 40 ? "is longer than 40 characters" : undefined));
    if (!spokeName) r.problem("spokeName", "required on a spoke: its name in the hub's spokes list (`pulumi config set spokeName eu-1`)");
    const stack = r.optionalString("hubStack", (v) => (/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+){0,2}$/.test(v) ? undefined : `"${v}" is not a stack name like org/vault-eso-platform/hub`));
    const token = r.optionalSecret("hubToken");
    if (stack && token) r.problem("hubToken", "the token comes from hubStack's spokeTokens output; remove hubToken (or hubStack, for a hub outside Pulumi)");
    if (!stack && !token) r.problem("hubToken", "a spoke without hubStack needs the token its hub minted for it: `pulumi config set --secret hubToken <token>`");
    const kvPrefix = r.string("spokeKvPrefix", `spokes/${spokeName}`, checkVaultPath).replace(/\/$/, "");
    return { spokeName, stack, token, kvPrefix };
}

/**
 * What a spoke may do on its hub (README "One Vault, many clusters"): configure the mount its hub
 * enabled for it, write roles handing out the hub's reader policy, which grants a login read below
 * `<spoke prefix>/<its service account's namespace>/`, and write KV below its prefix. So every path a
 * tenant reads must lie in its namespace's folder there.
 */
function checkSpokeScope(r: ConfigReader, c: PlatformConfig, hub: NonNullable<PlatformConfig["hub"]>): void {
    if (!hub.spokeName) return; // reported as missing; the rules below need it
    const mount = spokeMountPath(hub.spokeName);
    if (c.auth.mountPath !== mount) r.problem("authMountPath", `a spoke logs in at the mount its hub enabled for it, ${mount}; remove authMountPath`);
    const outside = (key: string, p: string, ns: string, why: string) => {
        const folder = `${hub.kvPrefix}/${ns}`;
        if (p && !isUnder(p, folder)) r.problem(key, `"${p}" is outside "${folder}/", the only KV folder ${why} may read on the hub (the spoke's prefix, then the namespace); use "${folder}/${isUnder(p, hub.kvPrefix) ? p.slice(hub.kvPrefix.length + 1) : p}"`);
    };
    const cluster = c.eso.storeKind === "ClusterSecretStore";
    const ns0 = cluster ? c.eso.namespace : c.apps.namespace;
    const who0 = cluster ? `the ClusterSecretStore (it logs in as ESO, in namespace ${ns0})` : `the default tenant (its reader is in appNamespace ${ns0})`;
    c.apps.secrets.forEach((s, i) => outside(`appSecrets[${i}].path`, s.path, ns0, who0));
    if (c.registry.enabled) outside("registryPath", c.registry.path, ns0, who0);
    c.tenants.forEach((t, i) => {
        const folder = `${hub.kvPrefix}/${t.namespace}`;
        if (t.kvPrefix && !isUnder(t.kvPrefix, folder)) r.problem(`tenants[${i}].kvPrefix`, `"${t.kvPrefix}" is outside "${folder}", the only KV folder tenant "${t.name}" (namespace ${t.namespace}) may read on the hub; use "${folder}" (the default)`);
    });
}

/** The default tenant's name (appNamespace + appSecrets): tenant zero of the Tenant components. */
export const DEFAULT_TENANT = "default";

/** Rules across tenants, and between tenants and the default tenant (appNamespace + appSecrets). */
function checkTenants(r: ConfigReader, c: PlatformConfig): void {
    const reserved = new Map([
        [c.apps.namespace, "appNamespace (the default tenant)"],
        [c.vault.namespace, "vaultNamespace"],
        [c.eso.namespace, "esoNamespace"],
    ]);
    const defaultPaths = [...c.apps.secrets.map((s) => s.path), ...(c.registry.enabled ? [c.registry.path] : [])];
    if (c.tenants.length > 0 && c.eso.storeKind === "ClusterSecretStore") {
        r.problem("tenants", "tenants need namespaced stores (each logs in as its own reader): set storeKind to SecretStore");
    }
    c.tenants.forEach((t, i) => {
        const at = `tenants[${i}]`;
        const other = c.tenants.slice(0, i);
        if (t.name === DEFAULT_TENANT) r.problem(`${at}.name`, `"${DEFAULT_TENANT}" is the name of the default tenant (appNamespace + appSecrets); choose another`);
        if (other.some((o) => o.name === t.name)) r.problem(`${at}.name`, `"${t.name}" is declared twice; tenant names must be unique`);
        if (reserved.has(t.namespace)) r.problem(`${at}.namespace`, `"${t.namespace}" is already the ${reserved.get(t.namespace)}; give the tenant its own namespace`);
        const sameNs = other.find((o) => o.namespace === t.namespace);
        if (sameNs) r.problem(`${at}.namespace`, `"${t.namespace}" is also tenant "${sameNs.name}"'s namespace; tenants cannot share one (their stores would see each other's Secrets)`);
        const overlap = other.find((o) => o.kvPrefix && t.kvPrefix && (isUnder(t.kvPrefix, o.kvPrefix) || isUnder(o.kvPrefix, t.kvPrefix)));
        if (overlap) r.problem(`${at}.kvPrefix`, `"${t.kvPrefix}" overlaps tenant "${overlap.name}"'s kvPrefix "${overlap.kvPrefix}"; prefixes must be disjoint`);
        const shared = defaultPaths.find((p) => t.kvPrefix && isUnder(p, t.kvPrefix));
        if (shared) r.problem(`${at}.kvPrefix`, `"${t.kvPrefix}" contains the default tenant's path "${shared}" (appSecrets/registryPath); move one of them`);
    });
}


/**
 * A spoke's token may delete policies named `<spoke>-*` (what spokes wrote themselves before their
 * hub owned their policies): no name of another spoke, of the hub's own policies, or of the scope
 * policies may fall under that pattern. Spoke mounts and KV prefixes are disjoint from everything else's.
 */
function checkSpokes(r: ConfigReader, c: PlatformConfig): void {
    const hubPolicies = [c.auth.roleName, ...c.tenants.map((t) => `${c.auth.roleName}-${t.name}`), "pulumi-admin"];
    const hubPaths = [...c.apps.secrets.map((s) => s.path), ...(c.registry.enabled ? [c.registry.path] : []), ...c.tenants.map((t) => t.kvPrefix)];
    const spokes = c.spokes ?? [];
    if (c.spokesVaultAddress && c.spokes === undefined && !c.hub) {
        r.problem("spokesVaultAddress", "only used by a hub (the address its spokes reach it at): set spokes too, or remove it");
    }
    spokes.forEach((sp, i) => {
        const at = `spokes[${i}]`;
        if (!sp.name) return;
        const other = spokes.slice(0, i);
        if (other.some((o) => o.name === sp.name)) r.problem(`${at}.name`, `"${sp.name}" is declared twice; spoke names must be unique`);
        if (isUnder(spokeMountPath(sp.name), c.auth.mountPath) || isUnder(c.auth.mountPath, spokeMountPath(sp.name))) r.problem(`${at}.name`, `its auth mount ${spokeMountPath(sp.name)} overlaps the hub's own auth mount ${c.auth.mountPath}; set authMountPath to another path`);
        const shadowed = hubPolicies.find((p) => p === sp.name || p.startsWith(`${sp.name}-`));
        if (shadowed) r.problem(`${at}.name`, `"${sp.name}" would manage policies named ${sp.name}-*, which includes the hub's "${shadowed}"; rename the spoke`);
        for (const o of spokes) {
            if (o !== sp && o.name.startsWith(`${sp.name}-`)) r.problem(`${at}.name`, `"${sp.name}" would manage policies named ${sp.name}-*, which includes spoke "${o.name}"'s; spoke names must not extend each other with "-"`);
        }
        const overlap = other.find((o) => isUnder(sp.kvPrefix, o.kvPrefix) || isUnder(o.kvPrefix, sp.kvPrefix));
        if (overlap) r.problem(`${at}.kvPrefix`, `"${sp.kvPrefix}" overlaps spoke "${overlap.name}"'s kvPrefix "${overlap.kvPrefix}"; prefixes must be disjoint`);
        const hub = hubPaths.find((p) => isUnder(p, sp.kvPrefix) || isUnder(sp.kvPrefix, p));
        if (hub) r.problem(`${at}.kvPrefix`, `"${sp.kvPrefix}" overlaps the hub's own path "${hub}"; give the spoke its own prefix`);
    });
}

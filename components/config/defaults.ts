import type { AppSecretSpec } from "./types";

/**
 * Defaults for every stack config key. Pulumi.yaml declares the same defaults for `pulumi config`;
 * test/unit/config.test.ts keeps the two in step.
 */
export const DEFAULTS = {
    vaultMode: "chart" as "chart" | "external",
    vaultNamespace: "vault",
    vaultServiceAccount: "vault",
    vaultChartName: "vault",
    vaultChartRepo: "https://helm.releases.hashicorp.com",
    vaultChartVersion: "0.30.1",
    vaultHa: false,
    vaultReplicas: 3,
    vaultUi: true,
    vaultInjector: false,
    vaultAudit: true,
    vaultStorageSize: "10Gi",
    vaultSecretShares: 5,
    vaultSecretThreshold: 3,
    vaultLocalPort: 18200,
    authMountPath: "kubernetes",
    kubernetesHost: "https://kubernetes.default.svc",
    esoRoleName: "external-secrets",
    esoTokenTtl: "1h",
    esoTokenMaxTtl: "24h",
    esoAudience: "vault",
    kvPath: "kv",
    esoNamespace: "external-secrets",
    esoChartName: "external-secrets",
    esoChartRepo: "https://charts.external-secrets.io",
    esoChartVersion: "1.3.2",
    esoServiceAccount: "external-secrets",
    esoWebhook: true,
    esoCertController: true,
    esoSkipAwait: false,
    storeKind: "SecretStore" as "SecretStore" | "ClusterSecretStore",
    refreshInterval: "1h",
    appNamespace: "demo-external-secrets",
    appSecrets: [{ name: "example-password", path: "path_to_secret", keys: ["password"], seed: "random" }] as AppSecretSpec[],
    registryPullSecret: true,
    registryServer: "registry.gitlab.com",
    registryPath: "gitlab/credentials",
    registrySecretName: "gitlab-registry-secret",
    demoWorkload: false,
    // The guide's private image; pin a tag or digest of your own image in stack config.
    demoImage: "registry.gitlab.com/yodamad-trash/go-sample/go-sample",
};

// Baseline for scripts/bench.mjs: what index.ts deploys for the local stack, minus everything the
// product adds (components, config validation, init/unseal provider, audit check, waitFor on the
// SecretStore and ExternalSecrets). Config comes from the bench (all keys below are required).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as vault from "@pulumi/vault";

const c = new pulumi.Config();
const provider = new vault.Provider("vault", { address: c.require("vaultAddress"), token: c.requireSecret("vaultToken"), skipChildToken: true });
const v = { provider };
const appNs = "demo-external-secrets";
const reader = "vault-secret-reader";

const vaultNs = new k8s.core.v1.Namespace("vault", { metadata: { name: "vault" } });
const vaultSa = new k8s.core.v1.ServiceAccount("vault", { metadata: { name: "vault", namespace: vaultNs.metadata.name } });
const reviewerToken = new k8s.core.v1.Secret("reviewer", {
    metadata: { name: "vault-token-reviewer", namespace: vaultNs.metadata.name, annotations: { "kubernetes.io/service-account.name": vaultSa.metadata.name } },
    type: "kubernetes.io/service-account-token",
});
const crb = new k8s.rbac.v1.ClusterRoleBinding("reviewer", {
    metadata: { name: "vault-vault-tokenreview" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
    subjects: [{ kind: "ServiceAccount", name: "vault", namespace: "vault" }],
});

const backend = new vault.AuthBackend("kubernetes", { type: "kubernetes", path: "kubernetes" }, v);
const cfg = new vault.kubernetes.AuthBackendConfig("kubernetes", {
    backend: backend.path,
    kubernetesHost: c.require("kubernetesHost"),
    kubernetesCaCert: c.require("kubernetesCaCert"),
    tokenReviewerJwt: reviewerToken.data.apply((d) => Buffer.from(d?.token ?? "", "base64").toString()),
    disableIssValidation: true,
}, { ...v, dependsOn: [crb] });
const paths = ["path_to_secret", "apps/database", "gitlab/credentials"];
const policy = new vault.Policy("external-secrets", {
    name: "external-secrets",
    policy: paths.flatMap((p) => [`path "kv/data/${p}" { capabilities = ["read"] }`, `path "kv/metadata/${p}" { capabilities = ["read"] }`]).join("\n"),
}, v);
new vault.kubernetes.AuthBackendRole("external-secrets", {
    backend: backend.path, roleName: "external-secrets", boundServiceAccountNames: [reader], boundServiceAccountNamespaces: [appNs],
    tokenPolicies: [policy.name], tokenTtl: 900, tokenMaxTtl: 3600, audience: "vault",
}, { ...v, dependsOn: [cfg] });

const mount = new vault.Mount("kv", { path: "kv", type: "kv", options: { version: "2" } }, v);
const pw = (n: string) => new random.RandomPassword(n, { length: 32, special: false }).result;
const seeds: Record<string, Record<string, pulumi.Input<string>>> = {
    path_to_secret: { password: pw("example") },
    "apps/database": { username: pw("db-user"), password: pw("db-password") },
    "gitlab/credentials": { username: c.require("registryUsername"), password: c.requireSecret("registryPassword") },
};
for (const [p, values] of Object.entries(seeds)) {
    new vault.kv.SecretV2(p.replace(/\//g, "-"), { mount: mount.path, name: p, dataJson: pulumi.secret(pulumi.output(values).apply((x) => JSON.stringify(x))) }, v);
}

const esoNs = new k8s.core.v1.Namespace("external-secrets", { metadata: { name: "external-secrets" } });
const eso = new k8s.helm.v4.Chart("external-secrets", {
    name: "external-secrets", namespace: esoNs.metadata.name, chart: c.require("esoChartPath"), skipAwait: true,
    // The controller settings the program gives ESO (esoConcurrent, esoVaultTokenCache defaults): the same objects.
    values: { installCRDs: true, serviceAccount: { create: true, name: "external-secrets" }, webhook: { create: false }, certController: { create: false }, concurrent: 8, vault: { enableTokenCache: true } },
});
const ns = new k8s.core.v1.Namespace("apps", { metadata: { name: appNs } });
new k8s.core.v1.ServiceAccount("reader", { metadata: { name: reader, namespace: ns.metadata.name } });

const apiVersion = "external-secrets.io/v1";
// The local stack's 10s unless the bench says otherwise (`--scale` runs the program's default, 1h).
const refreshInterval = c.get("refreshInterval") ?? "10s";
const store = new k8s.apiextensions.CustomResource("store", {
    apiVersion, kind: "SecretStore", metadata: { name: "vault", namespace: ns.metadata.name },
    spec: { provider: { vault: { server: c.require("vaultAddress"), path: mount.path, version: "v2", auth: { kubernetes: { mountPath: backend.path, role: "external-secrets", serviceAccountRef: { name: reader, audiences: ["vault"] } } } } } },
}, { dependsOn: [eso] });
const es = (name: string, p: string, keys: string[], template?: object) =>
    new k8s.apiextensions.CustomResource(name, {
        apiVersion, kind: "ExternalSecret", metadata: { name, namespace: ns.metadata.name },
        spec: {
            refreshInterval, secretStoreRef: { name: store.metadata.name, kind: "SecretStore" },
            target: { name, creationPolicy: "Owner", template },
            data: keys.map((k) => ({ secretKey: k, remoteRef: { key: p, property: k } })),
        },
    }, { dependsOn: [eso] });
es("example-password", "path_to_secret", ["password"]);
es("database-credentials", "apps/database", ["username", "password"]);
es("gitlab-registry-secret", "gitlab/credentials", ["username", "password"], {
    type: "kubernetes.io/dockerconfigjson", engineVersion: "v2",
    data: { ".dockerconfigjson": `{"auths":{"${c.require("registryServer")}":{"auth":"{{ printf "%s:%s" .username .password | b64enc }}"}}}` },
});

// `npm run bench -- --scale`: N more tenants of S seeded secrets each, the same objects the program's
// Tenant component declares (namespace, reader, policy, role, store, secret guard, ExternalSecrets,
// KV entries with generated values), written flat.
const tenantCount = c.getNumber("tenants") ?? 0;
const perTenant = c.getNumber("secretsPerTenant") ?? 10;
const esoUser = "system:serviceaccount:external-secrets:external-secrets";
for (let t = 0; t < tenantCount; t++) {
    const name = `t${t}`;
    const tns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name } });
    new k8s.core.v1.ServiceAccount(`${name}-reader`, { metadata: { name: reader, namespace: tns.metadata.name } });
    const tpaths = Array.from({ length: perTenant }, (_, i) => `${name}/s${i}`);
    const tpolicy = new vault.Policy(`${name}-policy`, {
        name: `external-secrets-${name}`,
        policy: tpaths.flatMap((p) => [`path "kv/data/${p}" { capabilities = ["read"] }`, `path "kv/metadata/${p}" { capabilities = ["read"] }`]).join("\n"),
    }, v);
    new vault.kubernetes.AuthBackendRole(`${name}-role`, {
        backend: backend.path, roleName: `external-secrets-${name}`, boundServiceAccountNames: [reader], boundServiceAccountNamespaces: [name],
        tokenPolicies: [tpolicy.name], tokenTtl: 900, tokenMaxTtl: 3600, audience: "vault",
    }, { ...v, dependsOn: [cfg] });
    const vap = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(`${name}-guard`, {
        metadata: { name: `tenant-secret-guard.${name}` },
        spec: {
            failurePolicy: "Fail",
            matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["secrets"] }] },
            matchConditions: [{ name: "guarded-types", expression: '!has(object.type) || object.type in ["Opaque", "kubernetes.io/dockerconfigjson"]' }],
            validations: [{ expression: `request.userInfo.username in ["${esoUser}", "system:serviceaccount:kube-system:generic-garbage-collector", "system:kube-controller-manager"]` }],
        },
    });
    new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(`${name}-guard`, {
        metadata: { name: `tenant-secret-guard.${name}` },
        spec: { policyName: vap.metadata.name, validationActions: ["Deny"], matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } } },
    });
    const tstore = new k8s.apiextensions.CustomResource(`${name}-store`, {
        apiVersion, kind: "SecretStore", metadata: { name: "vault", namespace: tns.metadata.name },
        spec: { provider: { vault: { server: c.require("vaultAddress"), path: mount.path, version: "v2", auth: { kubernetes: { mountPath: backend.path, role: `external-secrets-${name}`, serviceAccountRef: { name: reader, audiences: ["vault"] } } } } } },
    }, { dependsOn: [eso] });
    tpaths.forEach((p, i) => {
        const seed = new vault.kv.SecretV2(`${name}-s${i}`, { mount: mount.path, name: p, dataJson: pulumi.secret(pw(`${name}-s${i}-value`).apply((x) => JSON.stringify({ value: x }))) }, v);
        new k8s.apiextensions.CustomResource(`${name}-s${i}`, {
            apiVersion, kind: "ExternalSecret", metadata: { name: `s${i}`, namespace: tns.metadata.name },
            spec: { refreshInterval, secretStoreRef: { name: tstore.metadata.name, kind: "SecretStore" }, target: { name: `s${i}`, creationPolicy: "Owner" }, data: [{ secretKey: "value", remoteRef: { key: p, property: "value" } }] },
        }, { dependsOn: [eso, seed] });
    });
}

import * as fs from "fs";
import * as path from "path";
import { byType, one, ProgramRun, runProgram } from "../support/program";

const secrets = { registryPassword: "s3cret-registry-token" };
const caFile = path.join(__dirname, "../fixtures/vault-ca.pem");

const T = {
    ns: "kubernetes:core/v1:Namespace",
    chart: "kubernetes:helm.sh/v4:Chart",
    secret: "kubernetes:core/v1:Secret",
    crb: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    init: "pulumi-nodejs:dynamic/vault:VaultInit",
    vaultProvider: "pulumi:providers:vault",
    audit: "vault:index/audit:Audit",
    authBackend: "vault:index/authBackend:AuthBackend",
    authConfig: "vault:kubernetes/authBackendConfig:AuthBackendConfig",
    role: "vault:kubernetes/authBackendRole:AuthBackendRole",
    policy: "vault:index/policy:Policy",
    mount: "vault:index/mount:Mount",
    kvSecret: "vault:kv/secretV2:SecretV2",
    store: "kubernetes:external-secrets.io/v1:SecretStore",
    clusterStore: "kubernetes:external-secrets.io/v1:ClusterSecretStore",
    externalSecret: "kubernetes:external-secrets.io/v1:ExternalSecret",
    deployment: "kubernetes:apps/v1:Deployment",
};

const expectedPolicy = [
    'path "kv/data/gitlab/credentials" {\n  capabilities = ["read"]\n}\n',
    'path "kv/data/path_to_secret" {\n  capabilities = ["read"]\n}\n',
    'path "kv/metadata/gitlab/credentials" {\n  capabilities = ["read"]\n}\n',
    'path "kv/metadata/path_to_secret" {\n  capabilities = ["read"]\n}\n',
].join("\n");

describe("dev stack", () => {
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram("dev", {}, secrets);
    });
    const r = () => run.resources;

    test("declares the expected resource graph", () => {
        const counts: Record<string, number> = {};
        for (const res of r()) counts[res.type] = (counts[res.type] ?? 0) + 1;
        expect(counts).toMatchObject({
            [T.chart]: 2,
            [T.init]: 1,
            [T.vaultProvider]: 1,
            [T.audit]: 1,
            [T.authBackend]: 1,
            [T.authConfig]: 1,
            [T.role]: 1,
            [T.policy]: 1,
            [T.mount]: 1,
            [T.kvSecret]: 2,
            [T.store]: 1,
            [T.externalSecret]: 2,
            [T.crb]: 1,
            [T.secret]: 1,
            [T.ns]: 3,
            "random:index/randomPassword:RandomPassword": 1,
        });
        expect(counts[T.deployment]).toBeUndefined();
        expect(counts[T.clusterStore]).toBeUndefined();
    });

    test("Vault chart: pinned, sealed-tolerant readiness, injector off, parented to the VaultServer component", () => {
        const chart = one(r(), T.chart, "platform-chart");
        expect(chart.inputs).toMatchObject({ name: "vault", namespace: "vault", chart: "vault", version: "0.34.1", repositoryOpts: { repo: "https://helm.releases.hashicorp.com" } });
        expect(chart.inputs.values.server.readinessProbe.path).toBe("/v1/sys/health?standbyok=true");
        expect(chart.inputs.values.injector.enabled).toBe(false);
        expect(chart.parent).toBe(one(r(), "platform:vault:VaultServer").urn);
        expect(chart.parent).toMatch(/::platform:vault:VaultServer::platform$/);
    });

    test("init/unseal runs after the chart, holds its keys as secrets, and is never deleted", () => {
        const init = one(r(), T.init);
        expect(init.inputs).toMatchObject({ kubernetes: { namespace: "vault", podNames: ["vault-0"], scheme: "http" }, secretShares: 5, secretThreshold: 3 });
        expect(init.additionalSecretOutputs).toEqual(expect.arrayContaining(["rootToken", "adminToken", "unsealKeys"]));
        expect(init.dependencies).toContain(one(r(), T.chart, "platform-chart").urn);
    });

    test("the admin token's policy covers exactly what the program manages: the auth mount, KV mount and seeds, the audit device", () => {
        const init = one(r(), T.init);
        expect(init.inputs.adminTokenPeriod).toBe("768h");
        const granted = [...String(init.inputs.adminPolicy).matchAll(/path "([^"]+)"/g)].map((m) => m[1]);
        expect(granted).toEqual(expect.arrayContaining(["sys/auth/kubernetes", "auth/kubernetes/role/*", "sys/mounts/kv", "kv/data/path_to_secret", "kv/data/gitlab/credentials", "sys/audit/file"]));
        expect(granted.filter((p) => p.startsWith("kv/")).sort()).toEqual(["kv/data/gitlab/credentials", "kv/data/path_to_secret", "kv/metadata/gitlab/credentials", "kv/metadata/path_to_secret"]);
    });

    test("the Vault provider reaches Vault through the local tunnel with the admin token (no root token)", () => {
        const provider = one(r(), T.vaultProvider);
        // Provider config travels as strings.
        // The server version from the init resource (carried by its check): a preview of a sealed
        // Vault needs no version lookup, which would authenticate and fail.
        expect(provider.inputs).toMatchObject({ address: "http://127.0.0.1:18200", skipChildToken: "true", token: "s.mockadmintoken", vaultVersionOverride: "2.4.1" });
        expect(provider.secretInputs).toEqual(["token"]);
        expect(provider.dependencies).toContain(one(r(), T.init).urn);
        // Every Vault resource uses this explicit provider, never an ambient VAULT_ADDR/VAULT_TOKEN.
        const vaultResources = r().filter((res) => res.type.startsWith("vault:"));
        expect(vaultResources.map((res) => res.type).sort()).toEqual([T.audit, T.authBackend, T.authConfig, T.role, T.policy, T.mount, T.kvSecret, T.kvSecret].sort());
        for (const res of vaultResources) expect(res.provider).toBe(`${provider.urn}::${provider.name}-id`);
    });

    test("token reviewer: service-account-token Secret and auth-delegator binding for Vault's account", () => {
        const secret = one(r(), T.secret);
        expect(secret.inputs).toEqual({
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "vault-token-reviewer", namespace: "vault", annotations: { "kubernetes.io/service-account.name": "vault" } },
            type: "kubernetes.io/service-account-token",
        });
        const crb = one(r(), T.crb);
        expect(crb.inputs.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" });
        expect(crb.inputs.subjects).toEqual([{ kind: "ServiceAccount", name: "vault", namespace: "vault" }]);
    });

    test("kubernetes auth: config uses the reviewer JWT and CA, and depends on the reviewer token", () => {
        const config = one(r(), T.authConfig);
        expect(config.inputs).toMatchObject({
            backend: "kubernetes",
            kubernetesHost: "https://kubernetes.default.svc",
            tokenReviewerJwt: "reviewer-jwt",
            kubernetesCaCert: "-----BEGIN CERTIFICATE-----\nMOCK",
            disableIssValidation: true,
        });
        expect(config.secretInputs).toContain("tokenReviewerJwt");
        expect(config.dependencies).toContain(one(r(), T.secret).urn);
        expect(config.dependencies).toContain(one(r(), T.authBackend).urn);
        expect(one(r(), T.authBackend).inputs).toMatchObject({ type: "kubernetes", path: "kubernetes" });
    });

    test("ESO's role is bound to exactly one service account and namespace, with a bounded TTL", () => {
        const role = one(r(), T.role);
        expect(role.inputs).toMatchObject({
            roleName: "external-secrets",
            backend: "kubernetes",
            boundServiceAccountNames: ["vault-secret-reader"],
            boundServiceAccountNamespaces: ["demo-external-secrets"],
            tokenPolicies: ["external-secrets"],
            tokenTtl: 3600,
            tokenMaxTtl: 86400,
            audience: "vault",
        });
        expect(role.dependencies).toContain(one(r(), T.authConfig).urn);
    });

    test("ESO's policy grants read on exactly the declared KV paths", () => {
        expect(one(r(), T.policy).inputs).toMatchObject({ name: "external-secrets", policy: expectedPolicy });
    });

    test("KV v2 mount and seeded entries: generated password and registry credentials, kept on destroy", () => {
        expect(one(r(), T.mount).inputs).toMatchObject({ path: "kv", type: "kv", options: { version: "2" } });
        const entries = Object.fromEntries(byType(r(), T.kvSecret).map((s) => [s.inputs.name, JSON.parse(s.inputs.dataJson)]));
        for (const s of byType(r(), T.kvSecret)) {
            expect(s.secretInputs).toEqual(["dataJson"]);
            expect(s.retainOnDelete).toBe(true);
        }
        expect(one(r(), T.mount).retainOnDelete).toBe(true);
        expect(entries).toEqual({
            path_to_secret: { password: "generated-platform-kv-path_to_secret-password" },
            "gitlab/credentials": { username: "yodamad", password: "s3cret-registry-token" },
        });
    });

    test("external-secrets chart: pinned, CRDs installed, awaited", () => {
        const chart = one(r(), T.chart, "platform-eso-chart");
        expect(chart.inputs).toMatchObject({
            name: "external-secrets",
            namespace: "external-secrets",
            chart: "external-secrets",
            version: "2.9.0",
            repositoryOpts: { repo: "https://charts.external-secrets.io" },
            skipAwait: false,
        });
        // Exactly these values, each checked against external-secrets 2.9.0 (docs/chart-upgrade-notes.md).
        expect(chart.inputs.values).toEqual({
            installCRDs: true,
            serviceAccount: { create: true, name: "external-secrets" },
            webhook: { create: true },
            certController: { create: true },
            // docs/scale.md: one sync at a time, with a login and a revoke each, queues hundreds of ExternalSecrets.
            concurrent: 8,
            vault: { enableTokenCache: true },
        });
    });

    test("SecretStore: served v1 API, Vault kubernetes auth with the namespace's reader, waits for Ready", () => {
        const store = one(r(), T.store);
        expect(store.inputs).toEqual({
            apiVersion: "external-secrets.io/v1",
            kind: "SecretStore",
            metadata: { name: "vault", namespace: "demo-external-secrets", annotations: { "pulumi.com/waitFor": "condition=Ready" } },
            spec: {
                // Rides out Vault restarts and failovers (~10 s) instead of a SecretSyncedError at once.
                retrySettings: { maxRetries: 5, retryInterval: "2s" },
                provider: {
                    vault: {
                        server: "http://vault.vault.svc:8200",
                        path: "kv",
                        version: "v2",
                        auth: { kubernetes: { mountPath: "kubernetes", role: "external-secrets", serviceAccountRef: { name: "vault-secret-reader", audiences: ["vault"] } } },
                    },
                },
            },
        });
        // The chart (a remote component) expands to its children at deploy time; under mocks it has none.
        expect(store.dependencies).toEqual(expect.arrayContaining([one(r(), T.role).urn, one(r(), T.mount).urn]));
    });

    test("ExternalSecrets: the plain mapping and the templated dockerconfigjson pull secret", () => {
        const es = Object.fromEntries(byType(r(), T.externalSecret).map((e) => [e.inputs.metadata.name, e.inputs]));
        expect(es["example-password"].spec).toEqual({
            refreshInterval: "1m",
            secretStoreRef: { name: "vault", kind: "SecretStore" },
            target: { name: "example-password", creationPolicy: "Owner" },
            data: [{ secretKey: "password", remoteRef: { key: "path_to_secret", property: "password" } }],
        });
        expect(es["gitlab-registry-secret"].metadata.annotations).toEqual({ "pulumi.com/waitFor": "condition=Ready" });
        expect(es["gitlab-registry-secret"].spec.target).toEqual({
            name: "gitlab-registry-secret",
            creationPolicy: "Owner",
            template: {
                type: "kubernetes.io/dockerconfigjson",
                engineVersion: "v2",
                data: { ".dockerconfigjson": '{"auths":{"registry.gitlab.com":{"auth":"{{ printf "%s:%s" .username .password | b64enc }}"}}}' },
            },
        });
        expect(es["gitlab-registry-secret"].spec.data.map((d: any) => d.remoteRef)).toEqual([
            { key: "gitlab/credentials", property: "username" },
            { key: "gitlab/credentials", property: "password" },
        ]);
    });

    test("no Kubernetes Secret carries literal data; the registry password is only in Vault's seeded entry", () => {
        for (const s of byType(r(), T.secret)) expect(s.inputs.data ?? s.inputs.stringData).toBeUndefined();
        const mentions = r().filter((res) => JSON.stringify(res.inputs).includes("s3cret-registry-token")).map((res) => res.type);
        expect(mentions).toEqual([T.kvSecret]);
    });

    test("stack outputs: addresses and names in clear, admin token and unseal keys only as secrets, no root token", () => {
        const o = run.outputs as Record<string, { value: unknown; secret: boolean }>;
        expect(o.vaultAddress).toEqual({ value: "http://vault.vault.svc:8200", secret: false });
        expect(o.secretStore).toEqual({ value: "SecretStore/vault", secret: false });
        expect(o.syncedSecrets).toEqual({ value: ["example-password", "gitlab-registry-secret"], secret: false });
        expect(o.vaultAdminToken).toEqual({ value: "s.mockadmintoken", secret: true });
        expect(o.vaultRootToken).toBeUndefined();
        expect(o.vaultUnsealKeys.secret).toBe(true);
    });
});

describe("prod stack", () => {
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram("prod", { vaultCaCertFile: caFile }, secrets);
    });

    test("HA raft with three replicas and TLS; every pod is unsealed", () => {
        const chart = one(run.resources, T.chart, "platform-chart");
        expect(chart.inputs.values.server.ha).toMatchObject({ enabled: true, replicas: 3, raft: { enabled: true } });
        expect(chart.inputs.values.global.tlsDisable).toBe(false);
        const init = one(run.resources, T.init);
        expect(init.inputs).toMatchObject({
            kubernetes: { podNames: ["vault-0", "vault-1", "vault-2"], scheme: "https" },
            raftLeaderApiAddr: "https://vault-0.vault-internal:8200",
            tlsServerName: "vault.vault.svc",
        });
    });

    test("Pulumi and ESO verify Vault's certificate with the configured CA", () => {
        const ca = fs.readFileSync(caFile, "utf8");
        expect(one(run.resources, T.vaultProvider).inputs).toMatchObject({ address: "https://127.0.0.1:18200", caCertFile: caFile, tlsServerName: "vault.vault.svc" });
        const store = one(run.resources, T.store);
        // HA: the active node's Service (the certificate must name vault-active.vault.svc too: Pulumi.prod.yaml).
        expect(store.inputs.spec.provider.vault.server).toBe("https://vault-active.vault.svc:8200");
        expect(Buffer.from(store.inputs.spec.provider.vault.caBundle, "base64").toString()).toBe(ca);
    });

    test("the vault namespace is pre-created (it holds the TLS Secret), so the program doesn't create it", () => {
        const namespaces = byType(run.resources, T.ns).map((n) => n.inputs.metadata.name);
        expect(namespaces.sort()).toEqual(["demo-external-secrets", "external-secrets"]);
        expect(one(run.resources, T.chart, "platform-chart").inputs.namespace).toBe("vault");
    });

    test("shorter ESO tokens and an audit device", () => {
        expect(one(run.resources, T.role).inputs).toMatchObject({ tokenTtl: 1200, tokenMaxTtl: 3600 });
        expect(byType(run.resources, T.audit)).toHaveLength(1);
    });
});

describe("variants", () => {
    test("ClusterSecretStore binds ESO's own service account in its namespace", async () => {
        const run = await runProgram("dev", { storeKind: "ClusterSecretStore" }, secrets);
        const store = one(run.resources, T.clusterStore);
        expect(store.inputs.metadata.namespace).toBeUndefined();
        expect(store.inputs.spec.provider.vault.auth.kubernetes.serviceAccountRef).toEqual({ name: "external-secrets", namespace: "external-secrets", audiences: ["vault"] });
        expect(one(run.resources, T.role).inputs).toMatchObject({ boundServiceAccountNames: ["external-secrets"], boundServiceAccountNamespaces: ["external-secrets"] });
        expect(byType(run.resources, T.externalSecret).map((e) => e.inputs.spec.secretStoreRef)).toEqual([
            { name: "vault", kind: "ClusterSecretStore" },
            { name: "vault", kind: "ClusterSecretStore" },
        ]);
    });

    test("external Vault: no chart, init at the given address, Vault's identity created in the cluster", async () => {
        const run = await runProgram("dev", { vaultMode: "external", vaultAddress: "https://vault.example.com:8200", kubernetesHost: "https://10.0.0.1:6443" }, secrets);
        expect(byType(run.resources, T.chart).map((c) => c.name)).toEqual(["platform-eso-chart"]);
        expect(one(run.resources, T.init).inputs).toMatchObject({ address: "https://vault.example.com:8200" });
        expect(one(run.resources, T.init).inputs.kubernetes).toBeUndefined();
        expect(one(run.resources, T.vaultProvider).inputs.address).toBe("https://vault.example.com:8200");
        expect(one(run.resources, "kubernetes:core/v1:ServiceAccount", "platform-sa").inputs.metadata).toEqual({ name: "vault", namespace: "vault" });
        expect(one(run.resources, T.authConfig).inputs.kubernetesHost).toBe("https://10.0.0.1:6443");
        // External mode follows the same path: an admin token, scoped the same way.
        expect(one(run.resources, T.init).inputs.adminPolicy).toContain('path "sys/mounts/kv"');
        expect(one(run.resources, T.vaultProvider).inputs.token).toBe("s.mockadmintoken");
    });

    test("external Vault, first up: ESO (namespace, chart, CRDs) comes after the Vault side; not once deployed; in chart mode it does not wait", async () => {
        const externalConfig = { vaultMode: "external", vaultAddress: "https://vault.example.com:8200", kubernetesHost: "https://10.0.0.1:6443", tenants: JSON.stringify([{ name: "team-a", namespace: "team-a", secrets: [{ name: "db", path: "team-a/db", keys: ["password"] }] }]) };
        const external = await runProgram("dev", externalConfig, secrets);
        const esoNs = one(external.resources, T.ns, "platform-eso-ns");
        const vaultSide = [T.authBackend, T.authConfig, T.mount, T.kvSecret].flatMap((t) => byType(external.resources, t));
        expect(vaultSide.map((v) => v.name)).toEqual(expect.arrayContaining(["platform-auth-config", "platform-kv-mount", "platform-kv-team-a-db"]));
        for (const v of vaultSide) expect(esoNs.dependencies).toContain(v.urn);
        // The tenants' stores still wait for the chart (their CRDs).
        for (const store of byType(external.resources, T.store)) expect(store.dependencies).toContain(one(external.resources, T.chart, "platform-eso-chart").urn);

        // A stack already deployed (it has outputs): the CRDs are in its state; nothing to wait for.
        const later = await runProgram("dev", externalConfig, secrets, { appNamespace: "demo-external-secrets", tenantLayouts: { default: "flat", "team-a": "flat" } });
        const laterVaultSide = [T.authBackend, T.authConfig, T.mount, T.kvSecret].flatMap((t) => byType(later.resources, t)).map((v) => v.urn);
        expect(laterVaultSide.length).toBe(vaultSide.length);
        expect(one(later.resources, T.ns, "platform-eso-ns").dependencies.filter((d: string) => laterVaultSide.includes(d))).toEqual([]);

        const chartMode = await runProgram("dev", {}, secrets);
        const vaultUrns = [T.authConfig, T.mount, T.kvSecret].flatMap((t) => byType(chartMode.resources, t)).map((v) => v.urn);
        expect(one(chartMode.resources, T.ns, "platform-eso-ns").dependencies.filter((d: string) => vaultUrns.includes(d))).toEqual([]);
    });

    test("OpenBao: the admin policy only reads sys/audit (the device is declared in the server HCL)", async () => {
        const run = await runProgram("dev", { vaultChartName: "openbao", vaultChartRepo: "https://openbao.github.io/openbao-helm", vaultChartVersion: "0.16.0" }, secrets);
        const policy = String(one(run.resources, T.init).inputs.adminPolicy);
        expect(policy).toContain('path "sys/audit" {\n  capabilities = ["read", "sudo"]');
        expect(policy).not.toContain("sys/audit/file");
    });

    test("demo workload pulls through the synced pull secret, after it exists", async () => {
        const run = await runProgram("dev", { demoWorkload: "true" }, secrets);
        const deployment = one(run.resources, T.deployment);
        expect(deployment.inputs.spec.template.spec.imagePullSecrets).toEqual([{ name: "gitlab-registry-secret" }]);
        const pullSecret = one(run.resources, T.externalSecret, "platform-tenant-default-pull-secret-es");
        expect(deployment.dependencies).toContain(pullSecret.urn);
    });

    test("appSecrets with seed none are synced but not written by Pulumi", async () => {
        const run = await runProgram("dev", {
            registryPullSecret: "false",
            appSecrets: JSON.stringify([{ name: "db", path: "app/db", keys: ["user", "pass"], seed: "none" }]),
        }, {});
        expect(byType(run.resources, T.kvSecret)).toHaveLength(0);
        // Nothing seeded: the admin token gets no KV entry at all (only the mount).
        expect(String(one(run.resources, T.init).inputs.adminPolicy)).not.toMatch(/path "kv\//);
        expect(one(run.resources, T.policy).inputs.policy).toBe('path "kv/data/app/db" {\n  capabilities = ["read"]\n}\n\npath "kv/metadata/app/db" {\n  capabilities = ["read"]\n}\n');
        expect(one(run.resources, T.externalSecret).inputs.spec.data).toHaveLength(2);
    });
});

// Hub side of hub-and-spokes under Pulumi mocks: the spokes config, what the hub declares per spoke
// (scope policy, token role, token), the admin policy's extra grants, and the scope policy itself.
import { renderSpokePolicy, renderSpokeReaderPolicy } from "../../components/vault/policy";
import { parseVaultPolicy } from "../../policies/lib/hcl";
import { runProgram } from "../support/program";

const secrets = { registryPassword: "s3cret-registry-token" };
const P = "vault-eso-platform";
const run = (spokes: unknown, extra: Record<string, string> = {}) => runProgram("dev", { spokes: JSON.stringify(spokes), ...extra }, secrets);
const errorOf = (p: Promise<unknown>) => p.then(() => "", (e: Error) => e.message);

describe("spokes (hub)", () => {
    test("config: every problem at once, with the key and the fix", async () => {
        const msg = await errorOf(
            run([
                { name: "eu" },
                { name: "eu" },
                { name: "eu-1", kvPrefix: "spokes/eu/x" },
                { name: "external", kvPrefix: "ext" },
                { name: "pulumi", kvPrefix: "gitlab" },
                { name: "Bad_Name", color: "red" },
            ]),
        );
        expect(msg).toContain(`${P}:spokes[1].name: "eu" is declared twice; spoke names must be unique`);
        expect(msg).toContain(`${P}:spokes[0].name: "eu" would manage policies named eu-*, which includes spoke "eu-1"'s; spoke names must not extend each other with "-"`);
        expect(msg).toContain(`${P}:spokes[2].kvPrefix: "spokes/eu/x" overlaps spoke "eu"'s kvPrefix "spokes/eu"; prefixes must be disjoint`);
        expect(msg).toContain(`${P}:spokes[3].name: "external" would manage policies named external-*, which includes the hub's "external-secrets"; rename the spoke`);
        expect(msg).toContain(`${P}:spokes[4].name: "pulumi" would manage policies named pulumi-*, which includes the hub's "pulumi-admin"; rename the spoke`);
        expect(msg).toContain(`${P}:spokes[4].kvPrefix: "gitlab" overlaps the hub's own path "gitlab/credentials"; give the spoke its own prefix`);
        expect(msg).toContain(`${P}:spokes[5].name:`);
        expect(msg).toContain(`${P}:spokes[5].color: unknown field; a spoke takes name, kvPrefix and stack`);
    });

    test("per spoke: its auth mount, its reader policy (templated on the mount's accessor), a scope policy pulumi-spoke-<name>, an orphan token role that hands out only it, and a periodic token; the token is a secret output", async () => {
        const { resources, outputs } = await run([{ name: "eu-1" }, { name: "us-1", kvPrefix: "us" }]);
        const policy = resources.find((r) => r.type === "vault:index/policy:Policy" && r.inputs.name === "pulumi-spoke-eu-1")!;
        expect(policy.inputs.policy).toBe(renderSpokePolicy({ name: "eu-1", kvMount: "kv", kvPrefix: "spokes/eu-1" }));
        // The hub enables the spoke's mount (the spoke only configures it) and owns the one policy its roles hand out.
        const mounts = resources.filter((r) => r.type === "vault:index/authBackend:AuthBackend");
        expect(mounts.map((m) => [m.inputs.path, m.inputs.type]).sort()).toEqual([["kubernetes", "kubernetes"], ["spokes/eu-1", "kubernetes"], ["spokes/us-1", "kubernetes"]]);
        const reader = resources.find((r) => r.type === "vault:index/policy:Policy" && r.inputs.name === "pulumi-spoke-us-1-reader")!;
        const accessor = `auth_kubernetes_${Buffer.from("spokes/us-1").toString("hex").slice(0, 8)}`;
        expect(reader.inputs.policy).toBe(renderSpokeReaderPolicy({ name: "us-1", kvMount: "kv", kvPrefix: "us" }, accessor));
        expect(reader.dependencies).toContain(mounts.find((m) => m.inputs.path === "spokes/us-1")!.urn);
        const role = resources.find((r) => r.type === "vault:tokenauth/authBackendRole:AuthBackendRole" && r.inputs.roleName === "pulumi-spoke-eu-1")!;
        expect(role.inputs).toMatchObject({ allowedPolicies: ["pulumi-spoke-eu-1"], orphan: true, renewable: true, tokenPeriod: 768 * 3600, tokenNoDefaultPolicy: true });
        const token = resources.find((r) => r.type === "vault:index/token:Token" && r.inputs.roleName === "pulumi-spoke-eu-1")!;
        expect(token.inputs).toMatchObject({ policies: ["pulumi-spoke-eu-1"], noParent: true, noDefaultPolicy: true });
        // Periodic through the role (a period in the create request would need sudo).
        expect(token.inputs.period).toBeUndefined();
        expect(token.additionalSecretOutputs).toContain("clientToken");
        expect(resources.filter((r) => r.type === "vault:index/token:Token")).toHaveLength(2);
        const tokens = outputs.spokeTokens as { value: unknown; secret: boolean };
        expect(tokens.secret).toBe(true);
        expect(Object.keys(tokens.value as object).sort()).toEqual(["eu-1", "us-1"]);
        const endpoints = outputs.spokeEndpoints as { value: unknown };
        expect((endpoints.value as Record<string, unknown>)["us-1"]).toMatchObject({ authMountPath: "spokes/us-1", readerPolicy: "pulumi-spoke-us-1-reader", kvMount: "kv", kvPrefix: "us" });
        // The admin token may mint and revoke spoke tokens (only then).
        const admin = String(resources.find((r) => r.type === "pulumi-nodejs:dynamic/vault:VaultInit")!.inputs.adminPolicy);
        expect(admin).toContain('path "auth/token/create/pulumi-spoke-*"');
        expect(admin).toContain('path "auth/token/revoke-accessor"');
        expect(admin).toContain('path "sys/auth/spokes/+"');
        const without = await runProgram("dev", {}, secrets);
        expect(String(without.resources.find((r) => r.type === "pulumi-nodejs:dynamic/vault:VaultInit")!.inputs.adminPolicy)).not.toContain("auth/token");
        // `spokes: []`: no spoke, the grant kept (the last spoke's token is revoked with it).
        const empty = await run([]);
        expect(empty.resources.filter((r) => r.type === "vault:index/token:Token")).toEqual([]);
        expect(String(empty.resources.find((r) => r.type === "pulumi-nodejs:dynamic/vault:VaultInit")!.inputs.adminPolicy)).toContain("auth/token/revoke-accessor");
    });

    test("a spoke's mount must not overlap the hub's own auth mount", async () => {
        expect(await errorOf(run([{ name: "eu-1" }], { authMountPath: "spokes" }))).toContain(
            `${P}:spokes[0].name: its auth mount spokes/eu-1 overlaps the hub's own auth mount spokes; set authMountPath to another path`,
        );
    });

    test("spokesVaultAddress: what spokeEndpoints tells the spokes (default: the hub provider's own address); only on a hub", async () => {
        const endpoint = async (extra: Record<string, string>) => {
            const { outputs } = await run([{ name: "eu-1" }], extra);
            return ((outputs.spokeEndpoints as { value: Record<string, { vaultAddress: string }> }).value)["eu-1"].vaultAddress;
        };
        // The dev stack runs Vault in chart mode: its provider reaches it through a loopback tunnel.
        expect(await endpoint({})).toMatch(/^https?:\/\/127\.0\.0\.1:/);
        expect(await endpoint({ spokesVaultAddress: "https://vault.hub.example.com:8200" })).toBe("https://vault.hub.example.com:8200");
        expect(await errorOf(run([{ name: "eu-1" }], { spokesVaultAddress: "vault.hub:8200" }))).toContain(`${P}:spokesVaultAddress:`);
        expect(await errorOf(runProgram("dev", { spokesVaultAddress: "https://vault.hub.example.com:8200" }, secrets))).toContain(
            `${P}:spokesVaultAddress: only used by a hub (the address its spokes reach it at): set spokes too, or remove it`,
        );
        expect(await errorOf(runProgram("dev-eu-1", { spokesVaultAddress: "https://vault.hub.example.com:8200" }, secrets))).toContain(
            `${P}:spokesVaultAddress: a spoke runs no Vault server (its hub does); remove spokesVaultAddress`,
        );
    });

    test("the scope policy: its mount's config and roles (each handing out exactly the reader policy), its KV prefix, itself; what it made before only to read and remove", () => {
        const rules = parseVaultPolicy(renderSpokePolicy({ name: "eu-1", kvMount: "kv", kvPrefix: "spokes/eu-1" }));
        expect(rules.map((r) => [r.path, r.capabilities.join(",")]).sort()).toEqual([
            ["auth/kubernetes-eu-1/config", "read,delete"],
            ["auth/kubernetes-eu-1/role/*", "read,delete"],
            ["auth/spokes/eu-1/config", "create,read,update,delete"],
            ["auth/spokes/eu-1/role", "list"],
            ["auth/spokes/eu-1/role/*", "create,read,update,delete"],
            ["auth/token/lookup-self", "read"],
            ["auth/token/renew-self", "update"],
            ["kv/data/spokes/eu-1/*", "create,read,update,delete"],
            ["kv/metadata/spokes/eu-1/*", "create,read,update,delete"],
            ["sys/auth/kubernetes-eu-1", "read,delete,sudo"],
            ["sys/mounts/auth/kubernetes-eu-1", "read"],
            ["sys/policies/acl/eu-1-*", "read,delete"],
        ]);
        // Nothing that creates or changes a policy or a mount.
        for (const r of rules) if (/^sys\/(policies|auth|mounts)/.test(r.path)) expect(r.capabilities).not.toContain("create");
        const hcl = renderSpokePolicy({ name: "eu-1", kvMount: "kv", kvPrefix: "spokes/eu-1" });
        expect(hcl).toContain('path "auth/spokes/eu-1/role/*" {\n  capabilities = ["create", "read", "update", "delete"]\n  allowed_parameters = {\n    "token_policies" = [["pulumi-spoke-eu-1-reader"], "pulumi-spoke-eu-1-reader"]\n    "*" = []\n  }\n  denied_parameters = {\n    "policies" = []\n    "alias_metadata" = []\n  }\n}\n');
        expect(() => renderSpokePolicy({ name: "eu-*", kvMount: "kv", kvPrefix: "x" })).toThrow(/wildcard/);
    });

    test("the reader policy: read below <prefix>/<the login's namespace>/ through the mount's accessor; nothing else", () => {
        const hcl = renderSpokeReaderPolicy({ name: "eu-1", kvMount: "kv", kvPrefix: "spokes/eu-1/" }, "auth_kubernetes_0a1b2c3d");
        expect(parseVaultPolicy(hcl).map((r) => [r.path, r.capabilities.join(",")])).toEqual([
            ["kv/data/spokes/eu-1/{{identity.entity.aliases.auth_kubernetes_0a1b2c3d.metadata.service_account_namespace}}/*", "read"],
            ["kv/metadata/spokes/eu-1/{{identity.entity.aliases.auth_kubernetes_0a1b2c3d.metadata.service_account_namespace}}/*", "read"],
        ]);
        expect(() => renderSpokeReaderPolicy({ name: "eu-1", kvMount: "kv", kvPrefix: "spokes/eu-1" }, "auth_approle_0a1b2c3d")).toThrow(/not a Kubernetes auth mount's accessor/);
        expect(() => renderSpokeReaderPolicy({ name: "eu-1", kvMount: "kv", kvPrefix: "spokes/*" }, "auth_kubernetes_0a1b2c3d")).toThrow(/wildcard/);
    });
});

describe("spoke stack (vaultMode: spoke)", () => {
    const spoke = (extra: Record<string, string | undefined> = {}) => runProgram("dev-eu-1", extra, secrets);

    test("against the hub's Vault with the hub's token for it: no server, no init, no mount, no policy; its own reviewer, the config of the mount its hub enabled, roles handing out the hub's reader policy, KV below its prefix", async () => {
        const { resources, outputs } = await spoke();
        const types = resources.map((r) => r.type);
        expect(types).not.toContain("pulumi-nodejs:dynamic/vault:VaultInit");
        expect(types).not.toContain("vault:index/mount:Mount");
        expect(types).not.toContain("kubernetes:helm.sh/v3:Release:vault");
        expect(resources.filter((r) => r.type.startsWith("kubernetes:") && /vault/.test(String(r.inputs?.chart ?? "")))).toEqual([]);
        const ref = resources.find((r) => r.type === "pulumi:pulumi:StackReference")!;
        expect(ref.inputs.name).toBe("organization/vault-eso-platform/dev");
        const provider = resources.find((r) => r.type === "pulumi:providers:vault")!;
        expect(provider.inputs).toMatchObject({ address: "https://hub.example.test:8200", token: "hvs.mock-spoke-eu-1", skipChildToken: "true", vaultVersionOverride: "2.7.2" });
        expect(provider.secretInputs).toContain("token");
        // Every Vault resource goes through that provider, and stays inside the spoke's scope.
        const vaultResources = resources.filter((r) => r.custom && r.type.startsWith("vault:"));
        expect(vaultResources.length).toBeGreaterThan(0);
        for (const r of vaultResources) expect(r.provider.startsWith(provider.urn)).toBe(true);
        // The hub enables the mount and writes every policy: a spoke's token may do neither.
        expect(types).not.toContain("vault:index/authBackend:AuthBackend");
        expect(types).not.toContain("vault:index/policy:Policy");
        expect(resources.find((r) => r.type === "vault:kubernetes/authBackendConfig:AuthBackendConfig")!.inputs.backend).toBe("spokes/eu-1");
        for (const s of resources.filter((r) => r.type === "vault:kv/secretV2:SecretV2")) {
            expect(s.inputs.mount).toBe("kv");
            expect(s.inputs.name).toMatch(/^spokes\/eu-1\/demo-external-secrets\//);
        }
        const role = resources.find((r) => r.type === "vault:kubernetes/authBackendRole:AuthBackendRole")!;
        expect(role.inputs).toMatchObject({ backend: "spokes/eu-1", roleName: "eu-1-external-secrets", tokenPolicies: ["pulumi-spoke-eu-1-reader"] });
        // The reviewer: an account of the spoke's own (no Vault in this cluster).
        const sa = resources.find((r) => r.type === "kubernetes:core/v1:ServiceAccount" && r.inputs.metadata?.name === "vault-token-reviewer-eu-1")!;
        expect(sa.inputs.metadata.namespace).toBe("kube-system");
        const store = resources.find((r) => r.type === "kubernetes:external-secrets.io/v1:SecretStore")!;
        expect(store.inputs.spec.provider.vault).toMatchObject({ server: "https://hub.example.test:8200", path: "kv", auth: { kubernetes: { mountPath: "spokes/eu-1", role: "eu-1-external-secrets" } } });
        expect(outputs.vaultAdminToken).toBeUndefined();
        expect(outputs.vaultUnsealKeys).toBeUndefined();
        expect(outputs.hubSpoke).toMatchObject({ name: "eu-1", authMountPath: "spokes/eu-1", kvPrefix: "spokes/eu-1" });
        expect((outputs.vaultPolicies as { value: unknown }).value).toEqual(["pulumi-spoke-eu-1-reader"]);
    });

    test("a hub outside Pulumi: vaultAddress and hubToken (secret) instead of hubStack", async () => {
        const { resources } = await runProgram("dev-eu-1", { hubStack: undefined, vaultAddress: "https://vault.corp.example:8200" }, { ...secrets, hubToken: "hvs.given" });
        expect(resources.find((r) => r.type === "pulumi:pulumi:StackReference")).toBeUndefined();
        const provider = resources.find((r) => r.type === "pulumi:providers:vault")!;
        expect(provider.inputs).toMatchObject({ address: "https://vault.corp.example:8200", token: "hvs.given" });
        expect(provider.secretInputs).toContain("token");
    });

    test("config: every problem at once, with the key and the fix; nothing registered", async () => {
        const p = runProgram(
            "dev-eu-1",
            { hubStack: "not a stack!", kubernetesHost: undefined, vaultHa: "true", spokes: "[]", authMountPath: "kubernetes-eu-1", registryPath: "spokes/eu-1/other/credentials", appSecrets: JSON.stringify([{ name: "a", path: "elsewhere/a", keys: ["k"] }]), tenants: JSON.stringify([{ name: "team-a", secrets: [{ name: "x", path: "spokes/eu-1/team-a/x", keys: ["k"] }] }, { name: "team-b", namespace: "b", kvPrefix: "spokes/eu-1/team-b", secrets: [{ name: "x", path: "spokes/eu-1/team-b/x", keys: ["k"] }] }]) },
            secrets,
        );
        const err = await p.then(() => undefined, (e: Error & { resources?: unknown[] }) => e);
        expect(err).toBeDefined();
        const msg = err!.message;
        expect(msg).toContain(`${P}:hubStack: "not a stack!" is not a stack name`);
        expect(msg).toContain(`${P}:kubernetesHost: required on a spoke`);
        expect(msg).toContain(`${P}:vaultHa: a spoke runs no Vault server (its hub does); remove vaultHa`);
        expect(msg).toContain(`${P}:spokes: a spoke runs no Vault server (its hub does) and cannot have spokes of its own; remove spokes`);
        expect(msg).toContain(`${P}:authMountPath: a spoke logs in at the mount its hub enabled for it, spokes/eu-1; remove authMountPath`);
        expect(msg).toContain(`${P}:appSecrets[0].path: "elsewhere/a" is outside "spokes/eu-1/demo-external-secrets/", the only KV folder the default tenant (its reader is in appNamespace demo-external-secrets) may read on the hub (the spoke's prefix, then the namespace); use "spokes/eu-1/demo-external-secrets/elsewhere/a"`);
        expect(msg).toContain(`${P}:registryPath: "spokes/eu-1/other/credentials" is outside "spokes/eu-1/demo-external-secrets/"`);
        expect(msg).toContain(`${P}:tenants[1].kvPrefix: "spokes/eu-1/team-b" is outside "spokes/eu-1/b", the only KV folder tenant "team-b" (namespace b) may read on the hub; use "spokes/eu-1/b" (the default)`);
        expect(msg).not.toContain("tenants[0]");
        expect(err!.resources).toEqual([]);
        expect(await errorOf(runProgram("dev-eu-1", { spokeName: undefined }, secrets))).toContain(`${P}:spokeName: required on a spoke`);
    });

    test("a tenant's kvPrefix defaults to its namespace's folder below the spoke's prefix, its role hands out the hub's reader policy; the spoke keys are refused on a hub", async () => {
        const { resources } = await spoke({ tenants: JSON.stringify([{ name: "team-a", secrets: [{ name: "db", path: "spokes/eu-1/team-a/db", keys: ["password"] }] }]) });
        const role = resources.find((r) => r.type === "vault:kubernetes/authBackendRole:AuthBackendRole" && r.inputs.roleName === "eu-1-external-secrets-team-a")!;
        expect(role.inputs).toMatchObject({ backend: "spokes/eu-1", boundServiceAccountNamespaces: ["team-a"], tokenPolicies: ["pulumi-spoke-eu-1-reader"] });
        // A ClusterSecretStore logs in as ESO: the default tenant's folder is ESO's namespace.
        const cluster = await spoke({ storeKind: "ClusterSecretStore", appSecrets: JSON.stringify([{ name: "a", path: "spokes/eu-1/external-secrets/a", keys: ["k"], seed: "random" }]) });
        expect(cluster.resources.filter((r) => r.type === "vault:kv/secretV2:SecretV2").map((r) => r.inputs.name).sort()).toEqual(["spokes/eu-1/external-secrets/a", "spokes/eu-1/external-secrets/gitlab/credentials"]);
        const msg = await errorOf(runProgram("dev", { spokeName: "eu-1", hubStack: "org/p/hub" }, secrets));
        expect(msg).toContain(`${P}:spokeName: only used when vaultMode is "spoke"`);
        expect(msg).toContain(`${P}:hubStack: only used when vaultMode is "spoke"`);
    });
});

describe("tenant shard (a spoke in its hub's cluster: tenantShard)", () => {
    // The eu-1 spoke's stack as a shard: no default tenant, so none of its keys.
    const shardConfig = { tenantShard: "true", kubernetesHost: undefined, registryUsername: undefined, appSecrets: undefined };
    const teamA = { name: "team-a", secrets: [{ name: "db", path: "spokes/eu-1/team-a/db", keys: ["password"], seed: "random" }] };
    const shard = (extra: Record<string, string | undefined> = {}) => runProgram("dev-eu-1", { ...shardConfig, tenants: JSON.stringify([teamA]), ...extra });

    test("only its tenants: no ESO chart, no default tenant, no pull secret; the hub's ESO is each guard's one writer; its roles hand out the hub's reader policy", async () => {
        const { resources, outputs } = await shard();
        const types = resources.map((r) => r.type);
        expect(types).not.toContain("platform:externalSecrets:Operator");
        expect((await runProgram("dev-eu-1", {}, secrets)).resources.map((r) => r.type)).toContain("platform:externalSecrets:Operator");
        expect(types.filter((t) => t.startsWith("kubernetes:helm.sh"))).toEqual([]);
        expect(resources.filter((r) => r.type === "kubernetes:core/v1:Namespace").map((r) => r.inputs.metadata.name)).toEqual(["team-a"]);
        expect(resources.filter((r) => r.type === "kubernetes:external-secrets.io/v1:ExternalSecret").map((r) => r.inputs.metadata.name)).toEqual(["db"]);
        expect(resources.filter((r) => r.type === "vault:kv/secretV2:SecretV2").map((r) => r.inputs.name)).toEqual(["spokes/eu-1/team-a/db"]);
        const role = resources.find((r) => r.type === "vault:kubernetes/authBackendRole:AuthBackendRole")!;
        expect(role.inputs).toMatchObject({ backend: "spokes/eu-1", boundServiceAccountNamespaces: ["team-a"], tokenPolicies: ["pulumi-spoke-eu-1-reader"] });
        expect(types).not.toContain("vault:index/policy:Policy");
        expect(types).not.toContain("vault:index/authBackend:AuthBackend");
        // The mount's config reviews tokens of this (the hub's) cluster at the in-cluster default.
        expect(resources.find((r) => r.type === "vault:kubernetes/authBackendConfig:AuthBackendConfig")!.inputs).toMatchObject({ backend: "spokes/eu-1", kubernetesHost: "https://kubernetes.default.svc" });
        const binding = resources.find((r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding")!;
        expect(JSON.stringify(binding.inputs)).toContain("team-a");
        const guard = resources.find((r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy")!;
        expect(JSON.stringify(guard.inputs)).toContain("system:serviceaccount:external-secrets:external-secrets");
        expect(outputs.appNamespace).toBeUndefined();
        expect(outputs.secretStore).toBeUndefined();
        const { externalSecretsNamespace } = outputs;
        expect(externalSecretsNamespace).toBe("external-secrets");
        expect((outputs.tenantStores as { value: { name: string }[] }).value.map((t) => t.name)).toEqual(["team-a"]);
        expect(Object.keys(outputs.tenantLayouts as object)).toEqual(["team-a"]);
    });

    test("one more tenant: only its own resources are added (the stack's other tenants are untouched)", async () => {
        const one = await shard();
        const teamB = { name: "team-b", secrets: [{ name: "api", path: "spokes/eu-1/team-b/api", keys: ["token"] }] };
        const two = await shard({ tenants: JSON.stringify([teamA, teamB]) });
        const key = (r: { type: string; name: string; inputs: unknown }) => `${r.type}::${r.name}::${JSON.stringify(r.inputs)}`;
        const before = new Set(one.resources.map(key));
        const added = two.resources.filter((r) => !before.has(key(r)));
        expect(added.length).toBeGreaterThan(0);
        for (const r of added) expect(r.name).toMatch(/team-b/);
        expect(two.resources.length - one.resources.length).toBe(added.length);
    });

    test("config: every problem at once: the hub's ESO and a default tenant are not a shard's to set; only a spoke can be a shard", async () => {
        const msg = await errorOf(shard({ esoChartVersion: "0.9.0", esoWebhook: "false", appNamespace: "apps", appSecrets: JSON.stringify([{ name: "a", path: "spokes/eu-1/apps/a", keys: ["k"] }]), registryServer: "ghcr.io", storeKind: "ClusterSecretStore" }));
        expect(msg).toContain(`${P}:esoChartVersion: a tenant shard uses the external-secrets its hub's stack installs in this cluster; remove esoChartVersion (set it on the hub)`);
        expect(msg).toContain(`${P}:esoWebhook: a tenant shard uses the external-secrets`);
        for (const k of ["appNamespace", "appSecrets", "registryServer", "storeKind"]) {
            expect(msg).toContain(`${P}:${k}: a tenant shard has no default tenant; remove ${k} and declare the tenant under tenants`);
        }
        // The defaults (as the engine passes them from Pulumi.yaml) and registryPullSecret false say what a shard does anyway.
        const defaults = await shard({ registryPullSecret: "true", appNamespace: "demo-external-secrets", storeKind: "SecretStore", registryServer: "registry.gitlab.com" });
        expect(defaults.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace").map((r) => r.inputs.metadata.name)).toEqual(["team-a"]);
        await expect(shard({ registryPullSecret: "false" })).resolves.toBeDefined();
        expect(await errorOf(runProgram("dev", { tenantShard: "true" }, secrets))).toContain(`${P}:tenantShard: a tenant shard is a spoke in its hub's cluster: set vaultMode "spoke" with spokeName and hubStack, or remove tenantShard`);
    });
});

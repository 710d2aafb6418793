// Hub side of hub-and-spokes under Pulumi mocks: the spokes config, what the hub declares per spoke
// (scope policy, token role, token), the admin policy's extra grants, and the scope policy itself.
import { renderSpokePolicy } from "../../components/vault/policy";
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

    test("per spoke: a scope policy pulumi-spoke-<name>, an orphan token role that hands out only it, and a periodic token; the token is a secret output", async () => {
        const { resources, outputs } = await run([{ name: "eu-1" }, { name: "us-1", kvPrefix: "us" }]);
        const policy = resources.find((r) => r.type === "vault:index/policy:Policy" && r.inputs.name === "pulumi-spoke-eu-1")!;
        expect(policy.inputs.policy).toBe(renderSpokePolicy({ name: "eu-1", kvMount: "kv", kvPrefix: "spokes/eu-1" }));
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
        expect((endpoints.value as Record<string, unknown>)["us-1"]).toMatchObject({ authMountPath: "kubernetes-us-1", kvMount: "kv", kvPrefix: "us", policyPrefix: "us-1-" });
        // The admin token may mint and revoke spoke tokens (only then).
        const admin = String(resources.find((r) => r.type === "pulumi-nodejs:dynamic/vault:VaultInit")!.inputs.adminPolicy);
        expect(admin).toContain('path "auth/token/create/pulumi-spoke-*"');
        expect(admin).toContain('path "auth/token/revoke-accessor"');
        const without = await runProgram("dev", {}, secrets);
        expect(String(without.resources.find((r) => r.type === "pulumi-nodejs:dynamic/vault:VaultInit")!.inputs.adminPolicy)).not.toContain("auth/token");
        // `spokes: []`: no spoke, the grant kept (the last spoke's token is revoked with it).
        const empty = await run([]);
        expect(empty.resources.filter((r) => r.type === "vault:index/token:Token")).toEqual([]);
        expect(String(empty.resources.find((r) => r.type === "pulumi-nodejs:dynamic/vault:VaultInit")!.inputs.adminPolicy)).toContain("auth/token/revoke-accessor");
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

    test("the scope policy: its own mount, <name>-* policies, its KV prefix, itself; nothing else", () => {
        const rules = parseVaultPolicy(renderSpokePolicy({ name: "eu-1", kvMount: "kv", kvPrefix: "spokes/eu-1" }));
        expect(rules.map((r) => r.path).sort()).toEqual([
            "auth/kubernetes-eu-1/config",
            "auth/kubernetes-eu-1/role",
            "auth/kubernetes-eu-1/role/*",
            "auth/token/lookup-self",
            "auth/token/renew-self",
            "kv/data/spokes/eu-1/*",
            "kv/metadata/spokes/eu-1/*",
            "sys/auth",
            "sys/auth/kubernetes-eu-1",
            "sys/auth/kubernetes-eu-1/tune",
            "sys/mounts/auth/kubernetes-eu-1",
            "sys/mounts/auth/kubernetes-eu-1/tune",
            "sys/policies/acl/eu-1-*",
        ]);
        expect(() => renderSpokePolicy({ name: "eu-*", kvMount: "kv", kvPrefix: "x" })).toThrow(/wildcard/);
    });
});

describe("spoke stack (vaultMode: spoke)", () => {
    const spoke = (extra: Record<string, string | undefined> = {}) => runProgram("dev-eu-1", extra, secrets);

    test("against the hub's Vault with the hub's token for it: no server, no init, no mount; its own reviewer, mount, <spoke>-* policies and KV prefix", async () => {
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
        expect(resources.find((r) => r.type === "vault:index/authBackend:AuthBackend")!.inputs.path).toBe("kubernetes-eu-1");
        for (const p of resources.filter((r) => r.type === "vault:index/policy:Policy")) expect(p.inputs.name).toMatch(/^eu-1-/);
        for (const s of resources.filter((r) => r.type === "vault:kv/secretV2:SecretV2")) {
            expect(s.inputs.mount).toBe("kv");
            expect(s.inputs.name).toMatch(/^spokes\/eu-1\//);
        }
        const role = resources.find((r) => r.type === "vault:kubernetes/authBackendRole:AuthBackendRole")!;
        expect(role.inputs).toMatchObject({ backend: "kubernetes-eu-1", roleName: "eu-1-external-secrets" });
        // The reviewer: an account of the spoke's own (no Vault in this cluster).
        const sa = resources.find((r) => r.type === "kubernetes:core/v1:ServiceAccount" && r.inputs.metadata?.name === "vault-token-reviewer-eu-1")!;
        expect(sa.inputs.metadata.namespace).toBe("kube-system");
        const store = resources.find((r) => r.type === "kubernetes:external-secrets.io/v1:SecretStore")!;
        expect(store.inputs.spec.provider.vault).toMatchObject({ server: "https://hub.example.test:8200", path: "kv", auth: { kubernetes: { mountPath: "kubernetes-eu-1", role: "eu-1-external-secrets" } } });
        expect(outputs.vaultAdminToken).toBeUndefined();
        expect(outputs.vaultUnsealKeys).toBeUndefined();
        expect(outputs.hubSpoke).toMatchObject({ name: "eu-1", authMountPath: "kubernetes-eu-1", kvPrefix: "spokes/eu-1" });
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
            { hubStack: "not a stack!", kubernetesHost: undefined, vaultHa: "true", spokes: "[]", authMountPath: "kubernetes", esoRoleName: "reader", registryPath: "other/credentials", appSecrets: JSON.stringify([{ name: "a", path: "elsewhere/a", keys: ["k"] }]), tenants: JSON.stringify([{ name: "team-a", secrets: [{ name: "x", path: "spokes/eu-1/team-a/x", keys: ["k"] }] }]) },
            secrets,
        );
        const err = await p.then(() => undefined, (e: Error & { resources?: unknown[] }) => e);
        expect(err).toBeDefined();
        const msg = err!.message;
        expect(msg).toContain(`${P}:hubStack: "not a stack!" is not a stack name`);
        expect(msg).toContain(`${P}:kubernetesHost: required on a spoke`);
        expect(msg).toContain(`${P}:vaultHa: a spoke runs no Vault server (its hub does); remove vaultHa`);
        expect(msg).toContain(`${P}:spokes: a spoke runs no Vault server (its hub does) and cannot have spokes of its own; remove spokes`);
        expect(msg).toContain(`${P}:esoRoleName: names a Vault policy`);
        expect(msg).toContain(`${P}:appSecrets[0].path: "elsewhere/a" is outside the spoke's KV prefix`);
        expect(msg).toContain(`${P}:registryPath: "other/credentials" is outside the spoke's KV prefix`);
        expect(err!.resources).toEqual([]);
        expect(await errorOf(runProgram("dev-eu-1", { spokeName: undefined }, secrets))).toContain(`${P}:spokeName: required on a spoke`);
    });

    test("a tenant's kvPrefix defaults below the spoke's; the spoke keys are refused on a hub", async () => {
        const { resources } = await spoke({ tenants: JSON.stringify([{ name: "team-a", secrets: [{ name: "db", path: "spokes/eu-1/team-a/db", keys: ["password"] }] }]) });
        expect(resources.find((r) => r.type === "vault:index/policy:Policy" && r.inputs.name === "eu-1-external-secrets-team-a")!.inputs.policy).toContain('"kv/data/spokes/eu-1/team-a/db"');
        const msg = await errorOf(runProgram("dev", { spokeName: "eu-1", hubStack: "org/p/hub" }, secrets));
        expect(msg).toContain(`${P}:spokeName: only used when vaultMode is "spoke"`);
        expect(msg).toContain(`${P}:hubStack: only used when vaultMode is "spoke"`);
    });
});

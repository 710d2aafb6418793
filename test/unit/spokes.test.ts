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
        expect(msg).toContain(`${P}:spokes[5].color: unknown field; a spoke takes name and kvPrefix`);
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

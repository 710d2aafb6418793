import { kubernetesAuthRoleBound, vaultPolicyLeastPrivilege } from "../../policies/rules/vault";
import { renderSpokePolicy, renderSpokeReaderPolicy } from "../../components/vault/policy";
import { authRole, vaultPolicy } from "./fixtures";
import { UNKNOWN_VALUE, change, validateResource } from "./harness";

const P = 'vault:index/policy:Policy "platform-auth-external-secrets-policy": policy "external-secrets": ';
const withHcl = (hcl: string) => change(vaultPolicy, "policy", hcl);
const appPolicy = (hcl: string) => change(withHcl(hcl), "name", "app-writer");
const A = 'vault:index/policy:Policy "platform-auth-external-secrets-policy": policy "app-writer": ';

describe("vault-policy-least-privilege", () => {
    it("accepts exact read paths", async () => {
        expect((await validateResource(vaultPolicyLeastPrivilege, vaultPolicy)).violations).toEqual([]);
    });

    it("flags the guide's bare path \"*\"", async () => {
        const v = await validateResource(vaultPolicyLeastPrivilege, withHcl('path "*"\n{ capabilities = ["read"]\n}\n'));
        expect(v.violations).toEqual([
            P + 'grants ["read"] on the bare path "*" (line 1), i.e. on everything in Vault. Fix: replace path "*" with the exact paths the client needs.',
        ]);
    });

    it("flags a wildcard first segment", async () => {
        const v = await validateResource(vaultPolicyLeastPrivilege, withHcl('path "+/data/app" { capabilities = ["read"] }'));
        expect(v.violations).toEqual([
            P + 'path "+/data/app" (line 1) starts with a wildcard, so it spans every secrets engine and auth mount. Fix: name the mount explicitly (e.g. "kv/data/<app>/...").',
        ]);
    });

    it("allows read and list under a glob in a policy other than ESO's", async () => {
        const v = await validateResource(vaultPolicyLeastPrivilege, appPolicy('path "kv/data/apps/*" { capabilities = ["read", "list"] }'));
        expect(v.violations).toEqual([]);
    });

    it.each([["kv/data/*"], ["kv/metadata/apps/+"]])("flags the glob %s in the external-secrets policy, even read-only", async (path) => {
        const v = await validateResource(vaultPolicyLeastPrivilege, withHcl(`path "${path}" { capabilities = ["read"] }`));
        expect(v.violations).toEqual([
            P +
                `the external-secrets policy uses the glob path "${path}" (line 1): every store logging in with it can read every secret below it. ` +
                "Fix: grant read on the exact kv/data/<path> and kv/metadata/<path> entries the ExternalSecrets reference (the program generates them from appSecrets).",
        ]);
    });

    it.each([
        ["kv/data/apps/*", "create"],
        ["kv/+/apps", "delete"],
        ["kv/data/apps*", "update"],
        ["kv/data/apps/*", "sudo"],
        ["kv/data/apps/*", "patch"],
    ])("flags glob %s with %s", async (path, cap) => {
        const v = await validateResource(vaultPolicyLeastPrivilege, appPolicy(`path "${path}" { capabilities = ["read", "${cap}"] }`));
        expect(v.violations).toEqual([
            A + `glob path "${path}" (line 1) grants ["${cap}"]. Fix: list the exact paths that need ${cap}, or reduce the glob to ["read"].`,
        ]);
    });

    it("lets a non-ESO policy write to exact paths", async () => {
        const v = await validateResource(vaultPolicyLeastPrivilege, appPolicy('path "kv/data/apps/db" { capabilities = ["create", "update", "read"] }'));
        expect(v.violations).toEqual([]);
    });

    it.each([["sudo"], ["root"], ["update"]])("flags %s in the external-secrets policy", async (cap) => {
        const v = await validateResource(vaultPolicyLeastPrivilege, withHcl(`path "kv/data/apps/db" { capabilities = ["read", "${cap}"] }`));
        expect(v.violations).toEqual([
            P + `the external-secrets policy grants ["${cap}"] on "kv/data/apps/db" (line 1). Fix: limit it to ["read","list","deny"]; ESO only reads secrets.`,
        ]);
    });

    it("recognises ESO's policy by resource name when the name input is unset", async () => {
        const v = await validateResource(vaultPolicyLeastPrivilege, change(withHcl('path "sys/mounts" { capabilities = ["sudo"] }'), "name", undefined));
        expect(v.violations).toEqual([
            'vault:index/policy:Policy "platform-auth-external-secrets-policy": policy "platform-auth-external-secrets-policy": ' +
                'the external-secrets policy grants ["sudo"] on "sys/mounts" (line 1). Fix: limit it to ["read","list","deny"]; ESO only reads secrets.',
        ]);
    });

    it("uses esoPolicyPattern from config", async () => {
        const hcl = 'path "kv/data/apps/db" { capabilities = ["sudo"] }';
        expect((await validateResource(vaultPolicyLeastPrivilege, withHcl(hcl), { config: { esoPolicyPattern: "^eso-" } })).violations).toEqual([]);
    });

    it("uses broadCapabilities from config", async () => {
        const hcl = 'path "kv/data/apps/*" { capabilities = ["list"] }';
        const v = await validateResource(vaultPolicyLeastPrivilege, appPolicy(hcl), { config: { broadCapabilities: ["list"] } });
        expect(v.violations).toEqual([A + 'glob path "kv/data/apps/*" (line 1) grants ["list"]. Fix: list the exact paths that need list, or reduce the glob to ["read"].']);
    });

    it("reports a policy it cannot parse", async () => {
        const v = await validateResource(vaultPolicyLeastPrivilege, withHcl('path "kv/data/a" { capabilities = "read" }'));
        expect(v.violations).toEqual([
            'vault:index/policy:Policy "platform-auth-external-secrets-policy": policy "external-secrets" cannot be parsed: ' +
                "capabilities must be a list of strings. Fix: write valid Vault policy HCL.",
        ]);
    });

    it("accepts a hub's spoke scope policy as the program renders it (globs on the spoke's own area only)", async () => {
        const hcl = renderSpokePolicy({ name: "eu-1", kvMount: "kv", kvPrefix: "spokes/eu-1" });
        expect((await validateResource(vaultPolicyLeastPrivilege, change(withHcl(hcl), "name", "pulumi-spoke-eu-1"))).violations).toEqual([]);
    });

    it.each([
        ["without allowed_parameters", (hcl: string) => hcl.replace(/  allowed_parameters = \{[^}]*\}\n/, ""), "any policy"],
        ["pinned to another policy", (hcl: string) => hcl.replace('[["pulumi-spoke-eu-1-reader"], "pulumi-spoke-eu-1-reader"]', '[["pulumi-admin"], "pulumi-admin"]'), "any policy"],
        ["pinned to a glob", (hcl: string) => hcl.replace('[["pulumi-spoke-eu-1-reader"], "pulumi-spoke-eu-1-reader"]', '["pulumi-spoke-eu-1-*"]'), "any policy"],
        ["without the denied legacy key", (hcl: string) => hcl.replace(/  denied_parameters = \{[^}]*\}\n/, ""), "policies through the legacy `policies` parameter"],
    ])("flags a spoke's roles glob %s", async (_case, edit, what) => {
        const hcl = edit(renderSpokePolicy({ name: "eu-1", kvMount: "kv", kvPrefix: "spokes/eu-1" }));
        const v = await validateResource(vaultPolicyLeastPrivilege, change(withHcl(hcl), "name", "pulumi-spoke-eu-1"));
        expect(v.violations).toEqual([
            `vault:index/policy:Policy "platform-auth-external-secrets-policy": policy "pulumi-spoke-eu-1": path "auth/spokes/eu-1/role/*" (line 14) lets the spoke write roles that hand out ${what}, pulumi-spoke-eu-1-reader or not. ` +
                'Fix: pin it: allowed_parameters = { "token_policies" = [["pulumi-spoke-<n>-reader"], "pulumi-spoke-<n>-reader"], "*" = [] } and denied_parameters = { "policies" = [] } (renderSpokePolicy).',
        ]);
    });

    it("accepts a spoke's reader policy as the program renders it (read on a templated glob)", async () => {
        const hcl = renderSpokeReaderPolicy({ name: "eu-1", kvMount: "kv", kvPrefix: "spokes/eu-1" }, "auth_kubernetes_0a1b2c3d");
        expect((await validateResource(vaultPolicyLeastPrivilege, change(withHcl(hcl), "name", "pulumi-spoke-eu-1-reader"))).violations).toEqual([]);
    });

    it.each([
        ["sys/policies/acl/*", "pulumi-spoke-eu-1"],
        ["sys/policies/acl/us-1-*", "pulumi-spoke-eu-1"],
        ["auth/kubernetes-us-1/role/*", "pulumi-spoke-eu-1"],
        ["auth/spokes/us-1/role/*", "pulumi-spoke-eu-1"],
        ["auth/spokes/eu-1/role/*", "pulumi-spoke-eu-1-reader"],
        ["kv/data/*", "pulumi-spoke-eu-1"],
        ["sys/policies/acl/eu-1-*", "eu-1-writer"],
    ])("flags the write glob %s in policy %s (not that spoke's own area)", async (path, name) => {
        const v = await validateResource(vaultPolicyLeastPrivilege, change(withHcl(`path "${path}" { capabilities = ["read", "update"] }`), "name", name));
        expect(v.violations).toEqual([
            `vault:index/policy:Policy "platform-auth-external-secrets-policy": policy "${name}": glob path "${path}" (line 1) grants ["update"]. Fix: list the exact paths that need update, or reduce the glob to ["read"].`,
        ]);
    });

    it("skips a policy document that is unknown during preview", async () => {
        expect((await validateResource(vaultPolicyLeastPrivilege, withHcl(UNKNOWN_VALUE))).violations).toEqual([]);
    });
});

const R = 'vault:kubernetes/authBackendRole:AuthBackendRole "platform-auth-external-secrets-role": role "external-secrets": ';

describe("vault-kubernetes-role-bound", () => {
    it("accepts exact names, namespaces and bounded TTLs", async () => {
        expect((await validateResource(kubernetesAuthRoleBound, authRole)).violations).toEqual([]);
    });

    it.each([
        ["boundServiceAccountNames", ["*"], 'contains ["*"]', "service-account names"],
        ["boundServiceAccountNames", ["eso-*"], 'contains ["eso-*"]', "service-account names"],
        ["boundServiceAccountNamespaces", ["*"], 'contains ["*"]', "namespaces"],
        ["boundServiceAccountNamespaces", [], "is empty (Vault then refuses or, with a selector, matches broadly)", "namespaces"],
        ["boundServiceAccountNamespaces", undefined, "is empty (Vault then refuses or, with a selector, matches broadly)", "namespaces"],
        ["boundServiceAccountNames", [""], 'contains [""]', "service-account names"],
    ])("flags %s = %j", async (field, value, problem, what) => {
        const v = await validateResource(kubernetesAuthRoleBound, change(authRole, field, value));
        expect(v.violations).toEqual([R + `${field} ${problem}. Fix: list the exact ${what} allowed to log in.`]);
    });

    it("flags a namespace selector", async () => {
        const v = await validateResource(kubernetesAuthRoleBound, change(authRole, "boundServiceAccountNamespaceSelector", '{"matchLabels":{"a":"b"}}'));
        expect(v.violations).toEqual([
            R + 'boundServiceAccountNamespaceSelector is set ("{\\"matchLabels\\":{\\"a\\":\\"b\\"}}"). Fix: bind explicit boundServiceAccountNamespaces instead of a label selector.',
        ]);
    });

    it("flags an unset tokenTtl", async () => {
        const v = await validateResource(kubernetesAuthRoleBound, change(authRole, "tokenTtl", undefined));
        expect(v.violations).toEqual([R + "tokenTtl is <unset>, so Vault's default TTL (768h) applies. Fix: set tokenTtl to at most 86400 (24h)."]);
    });

    it("flags an unset tokenMaxTtl", async () => {
        const v = await validateResource(kubernetesAuthRoleBound, change(authRole, "tokenMaxTtl", undefined));
        expect(v.violations).toEqual([
            R + "tokenMaxTtl is <unset>, so renewals can extend the token to Vault's system max (768h). Fix: set tokenMaxTtl to at most 86400 (24h).",
        ]);
    });

    it("flags a tokenTtl above the limit", async () => {
        const v = await validateResource(kubernetesAuthRoleBound, change(change(authRole, "tokenTtl", 90000), "tokenMaxTtl", 86400));
        expect(v.violations).toEqual([
            R + "tokenTtl is 90000s (25h), above the 86400s limit. Fix: set tokenTtl to at most 86400 (24h).",
            R + "tokenTtl 90000 is above tokenMaxTtl 86400. Fix: make tokenTtl less than or equal to tokenMaxTtl.",
        ]);
    });

    it("honours maxTokenTtlSeconds from config", async () => {
        const v = await validateResource(kubernetesAuthRoleBound, authRole, { config: { maxTokenTtlSeconds: 3600 } });
        expect(v.violations).toEqual([R + "tokenMaxTtl is 14400s (4h), above the 3600s limit. Fix: set tokenMaxTtl to at most 3600 (1h)."]);
    });

    it("flags tokenTtl above tokenMaxTtl", async () => {
        const v = await validateResource(kubernetesAuthRoleBound, change(authRole, "tokenTtl", 20000));
        expect(v.violations).toEqual([R + "tokenTtl 20000 is above tokenMaxTtl 14400. Fix: make tokenTtl less than or equal to tokenMaxTtl."]);
    });

    it("flags periodic tokens", async () => {
        const v = await validateResource(kubernetesAuthRoleBound, change(authRole, "tokenPeriod", 3600));
        expect(v.violations).toEqual([
            R + "tokenPeriod is 3600, so tokens renew forever regardless of tokenMaxTtl. Fix: remove tokenPeriod (ESO logs in again when its token expires).",
        ]);
    });

    it("flags the root policy", async () => {
        const v = await validateResource(kubernetesAuthRoleBound, change(authRole, "tokenPolicies", ["external-secrets", "root"]));
        expect(v.violations).toEqual([R + 'tokenPolicies includes "root", so every login gets unrestricted access. Fix: grant a least-privilege policy instead of root.']);
    });

    it("does not guess about values unknown during preview", async () => {
        const role = change(change(authRole, "boundServiceAccountNamespaces", UNKNOWN_VALUE), "tokenTtl", UNKNOWN_VALUE);
        expect((await validateResource(kubernetesAuthRoleBound, role)).violations).toEqual([]);
    });
});

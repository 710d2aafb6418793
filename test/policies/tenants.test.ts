import { pathsOverlap, tenantIsolation, tenantSecretGuardProd } from "../../policies/rules/tenants";
import { authRole, goodStack, guardBinding, guardPolicy, vaultPolicy } from "./fixtures";
import { Fixture, change, validateStack } from "./harness";

// Known good: the default tenant (namespace apps, kv/*/apps/db) and tenant team-a (its own paths).
const teamAPolicy: Fixture = {
    type: "vault:index/policy:Policy",
    name: "platform-auth-external-secrets-team-a-policy",
    props: { name: "external-secrets-team-a", policy: 'path "kv/data/team-a/db" {\n  capabilities = ["read"]\n}\npath "kv/metadata/team-a/db" {\n  capabilities = ["read"]\n}\n' },
};
const teamARole: Fixture = {
    ...authRole,
    name: "platform-auth-external-secrets-team-a-role",
    props: { ...(authRole.props as object), roleName: "external-secrets-team-a", boundServiceAccountNamespaces: ["team-a"], tokenPolicies: ["external-secrets-team-a"] },
};
const good = [vaultPolicy, authRole, teamAPolicy, teamARole];
const replace = (f: Fixture) => good.map((g) => (g.name === f.name ? f : g));

describe("vault-tenant-isolation", () => {
    it("accepts tenants with disjoint paths", async () => {
        expect((await validateStack(tenantIsolation, good)).violations).toEqual([]);
    });

    it("flags a tenant policy that grants another tenant's path", async () => {
        const widened = change(teamAPolicy, "policy", 'path "kv/data/team-a/db" { capabilities = ["read"] }\npath "kv/data/apps/db" { capabilities = ["read"] }\n');
        expect((await validateStack(tenantIsolation, replace(widened))).violations).toEqual([
            'role "external-secrets" (namespaces ["apps"], policy "external-secrets") and role "external-secrets-team-a" (namespaces ["team-a"], policy "external-secrets-team-a") ' +
                'both reach ["kv/data/apps/db"]: each tenant could read the other\'s secrets. Fix: give every tenant its own kvPrefix and grant each only its own declared paths.',
        ]);
    });

    it("flags a glob that covers another tenant's path", async () => {
        const glob = change(teamAPolicy, "policy", 'path "kv/data/*" { capabilities = ["read"] }\n');
        expect((await validateStack(tenantIsolation, replace(glob))).violations).toHaveLength(1);
    });

    it("flags two tenants sharing one policy", async () => {
        const shared = change(teamARole, "tokenPolicies", ["external-secrets"]);
        expect((await validateStack(tenantIsolation, replace(shared))).violations).toHaveLength(1);
    });

    it("treats roles bound to a common namespace as one tenant", async () => {
        const same = change(teamARole, "boundServiceAccountNamespaces", ["apps"]);
        const sharedPolicy = change(same, "tokenPolicies", ["external-secrets"]);
        expect((await validateStack(tenantIsolation, replace(sharedPolicy))).violations).toEqual([]);
    });

    it("skips roles whose bindings are unknown during preview", async () => {
        const unknown = change(teamARole, "tokenPolicies", undefined);
        expect((await validateStack(tenantIsolation, replace(unknown))).violations).toEqual([]);
    });

    it.each([
        ["kv/data/a/db", "kv/data/a/db", true],
        ["kv/data/*", "kv/data/a/db", true],
        ["kv/data/a/*", "kv/data/ab/db", false],
        ["kv/data/+/db", "kv/data/a/db", true],
        ["kv/data/a/db", "kv/data/a/dbx", false],
        ["kv/data/a*", "kv/data/ab/c", true],
    ])("paths %s and %s overlap: %s", (a, b, want) => {
        expect(pathsOverlap(a, b)).toBe(want);
        expect(pathsOverlap(b, a)).toBe(want);
    });
});

describe("tenant-secret-guard-prod", () => {
    const withStack = (changed: Fixture | undefined, drop?: string) =>
        goodStack.filter((f) => f.name !== drop).map((f) => (changed && f.name === changed.name ? changed : f));
    const violation = 'Tenant namespace "apps" in the prod stack "prod" has no Secret guard: anyone with access to it can create Secrets by hand, outside Vault. ' +
        "Fix: keep tenantSecretGuard true (a ValidatingAdmissionPolicy on Secret CREATE/UPDATE, bound with validationActions [Deny] to the namespace).";

    it("accepts a prod stack whose tenant namespace is guarded", async () => {
        expect(await validateStack(tenantSecretGuardProd, goodStack, { stack: "prod" })).toEqual({ violations: [] });
    });

    it("does not apply outside prod", async () => {
        expect(await validateStack(tenantSecretGuardProd, withStack(undefined, guardBinding.name), { stack: "dev" })).toEqual({
            violations: [],
            notApplicable: 'stack "dev" is not a prod stack (environment dev)',
        });
    });

    it("flags a prod tenant namespace without a binding (tenantSecretGuard false)", async () => {
        expect((await validateStack(tenantSecretGuardProd, withStack(undefined, guardBinding.name), { stack: "prod" })).violations).toEqual([violation]);
    });

    it("flags a binding that only warns", async () => {
        expect((await validateStack(tenantSecretGuardProd, withStack(change(guardBinding, "spec.validationActions", ["Warn"])), { stack: "prod" })).violations).toEqual([violation]);
    });

    it("flags a binding for another namespace", async () => {
        const other = change(guardBinding, ["spec", "matchResources", "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"], "elsewhere");
        expect((await validateStack(tenantSecretGuardProd, withStack(other), { stack: "prod" })).violations).toEqual([violation]);
    });

    it("flags a policy that does not match Secret updates", async () => {
        const createOnly = change(guardPolicy, "spec.matchConstraints.resourceRules", [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["secrets"] }]);
        expect((await validateStack(tenantSecretGuardProd, withStack(createOnly), { stack: "prod" })).violations).toEqual([violation]);
    });
});

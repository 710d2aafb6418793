// Tenants under Pulumi mocks: config rules across tenants, what each tenant gets, and that adding
// or removing a tenant leaves every other resource exactly as it was (no replacement).
import { Recorded, runProgram } from "../support/program";

const secrets = { registryPassword: "s3cret-registry-token" };
const P = "vault-eso-platform";
const tenant = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    namespace: name,
    kvPrefix: name,
    secrets: [{ name: "db", path: `${name}/db`, keys: ["password"] }],
    ...extra,
});
const run = (tenants: unknown[] | undefined, config: Record<string, string> = {}, selfOutputs: Record<string, unknown> = {}) =>
    runProgram("dev", { tenants: tenants === undefined ? undefined : JSON.stringify(tenants), ...config }, secrets, selfOutputs);
const WRAPPERS = ["platform:externalSecrets:ExternalSecret", "platform:externalSecrets:VaultSecretStore"];
const errorOf = (p: Promise<unknown>) => p.then(() => "", (e: Error) => e.message);
const byUrn = (rs: Recorded[]) => new Map(rs.filter((r) => r.urn).map((r) => [r.urn, r]));

describe("tenants", () => {
    test("config: every cross-tenant problem at once, with the key and the fix", async () => {
        const msg = await errorOf(
            run([
                tenant("team-a"),
                tenant("team-a", { namespace: "team-x", kvPrefix: "x" , secrets: [{ name: "db", path: "x/db", keys: ["k"] }] }),
                tenant("team-b", { namespace: "team-a", kvPrefix: "team-a/b", secrets: [{ name: "db", path: "elsewhere/db", keys: ["k"] }] }),
                tenant("team-c", { namespace: "demo-external-secrets", kvPrefix: "path_to_secret", secrets: [{ name: "db", path: "path_to_secret/x", keys: ["k"] }] }),
            ]),
        );
        expect(msg).toContain(`${P}:tenants[1].name: "team-a" is declared twice; tenant names must be unique`);
        expect(msg).toContain(`${P}:tenants[2].namespace: "team-a" is also tenant "team-a"'s namespace; tenants cannot share one`);
        expect(msg).toContain(`${P}:tenants[2].kvPrefix: "team-a/b" overlaps tenant "team-a"'s kvPrefix "team-a"; prefixes must be disjoint`);
        expect(msg).toContain(`${P}:tenants[2].secrets[0].path: "elsewhere/db" is outside the tenant's kvPrefix "team-a/b"; use "team-a/b/<path>" (or change kvPrefix)`);
        expect(msg).toContain(`${P}:tenants[3].namespace: "demo-external-secrets" is already the appNamespace (the default tenant); give the tenant its own namespace`);
        expect(msg).toContain(`${P}:tenants[3].kvPrefix: "path_to_secret" contains the default tenant's path "path_to_secret" (appSecrets/registryPath); move one of them`);
        expect(await errorOf(run([tenant("team-a")], { storeKind: "ClusterSecretStore" }))).toContain(
            `${P}:tenants: tenants need namespaced stores (each logs in as its own reader): set storeKind to SecretStore`,
        );
        expect(await errorOf(run([{ name: "Team_A", secrets: [] }]))).toContain(`${P}:tenants[0].secrets: must be a non-empty list`);
    });

    test("each tenant: namespace, reader, a role bound to exactly them, a policy of exactly their paths, a store, their secrets", async () => {
        const { resources, outputs } = await run([tenant("team-a"), tenant("team-b", { namespace: "b-ns", kvPrefix: "b", secrets: [{ name: "api", path: "b/api", keys: ["token"] }] })]);
        const role = resources.find((r) => r.type === "vault:kubernetes/authBackendRole:AuthBackendRole" && r.inputs.roleName === "external-secrets-team-b")!;
        expect(role.inputs).toMatchObject({ boundServiceAccountNames: ["vault-secret-reader"], boundServiceAccountNamespaces: ["b-ns"], tokenPolicies: ["external-secrets-team-b"] });
        const policy = resources.find((r) => r.type === "vault:index/policy:Policy" && r.inputs.name === "external-secrets-team-b")!;
        expect(policy.inputs.policy).toBe('path "kv/data/b/api" {\n  capabilities = ["read"]\n}\n\npath "kv/metadata/b/api" {\n  capabilities = ["read"]\n}\n');
        const store = resources.find((r) => r.type === "kubernetes:external-secrets.io/v1:SecretStore" && r.inputs.metadata.namespace === "b-ns")!;
        expect(store.inputs.spec.provider.vault.auth.kubernetes).toMatchObject({ role: "external-secrets-team-b", serviceAccountRef: { name: "vault-secret-reader", audiences: ["vault"] } });
        const es = resources.filter((r) => r.type === "kubernetes:external-secrets.io/v1:ExternalSecret" && r.inputs.metadata.namespace === "b-ns");
        expect(es.map((e) => e.inputs.spec.data)).toEqual([[{ secretKey: "token", remoteRef: { key: "b/api", property: "token" } }]]);
        expect(resources.filter((r) => r.type === "kubernetes:core/v1:Namespace").map((r) => r.inputs.metadata.name)).toEqual(expect.arrayContaining(["team-a", "b-ns"]));
        // Seeded once, kept when the tenant goes.
        const seed = resources.find((r) => r.type === "vault:kv/secretV2:SecretV2" && r.inputs.name === "b/api")!;
        expect(seed.retainOnDelete).toBe(true);
        expect((outputs.tenantStores as { value: unknown }).value).toEqual([
            { name: "team-a", namespace: "team-a", role: "external-secrets-team-a", secrets: ["db"] },
            { name: "team-b", namespace: "b-ns", role: "external-secrets-team-b", secrets: ["api"] },
        ]);
    });

    test("adding tenants replaces nothing, and removing one removes only its own resources", async () => {
        const none = byUrn((await run([])).resources);
        const two = byUrn((await run([tenant("team-a"), tenant("team-b")])).resources);
        const one = byUrn((await run([tenant("team-a")])).resources);
        // Today's appNamespace + appSecrets stack: every URN and its inputs unchanged with tenants added.
        // The init resource is the one exception: the admin token's policy grants each seeding tenant's
        // kvPrefix, so a tenant changes its inputs once (an update, never a replacement: its diff
        // never replaces); the tenant's own seeded paths are not listed one by one.
        const INIT = "pulumi-nodejs:dynamic/vault:VaultInit";
        const adminPolicy = (r: Recorded) => String(r.inputs.adminPolicy);
        for (const [urn, r] of none) {
            expect(two.has(urn)).toBe(true);
            if (r.type === INIT) {
                const withoutPolicy = (x: Recorded) => ({ ...x.inputs, adminPolicy: undefined });
                expect(withoutPolicy(two.get(urn)!)).toEqual(withoutPolicy(r));
                expect(adminPolicy(two.get(urn)!)).toContain('path "kv/data/team-a/*"');
                expect(adminPolicy(two.get(urn)!)).not.toContain("team-a/db");
                continue;
            }
            if (r.type !== "vault:kubernetes/authBackendRole:AuthBackendRole" || r.inputs.roleName === "external-secrets") {
                expect([urn, two.get(urn)!.inputs]).toEqual([urn, r.inputs]);
            }
        }
        const removed = [...two.keys()].filter((u) => !one.has(u));
        expect(removed.length).toBeGreaterThan(0);
        expect(removed.every((u) => /team-b/.test(u))).toBe(true);
        for (const [urn, r] of one) if (r.type !== INIT) expect([urn, two.get(urn)?.inputs]).toEqual([urn, r.inputs]);
    });

    test("one Tenant component per tenant, the default one (appNamespace + appSecrets) first; each holds its namespace, reader, role, policy, store, secrets and guard", async () => {
        const { resources } = await run([tenant("team-a")]);
        const tenants = resources.filter((r) => r.type === "platform:tenants:Tenant").map((r) => r.name);
        expect(tenants).toEqual(["platform-tenant-default", "platform-tenant-team-a"]);
        const childTypes = (t: string) => resources.filter((r) => r.parent.endsWith(`::${t}`)).map((r) => r.type).sort();
        // A new stack: every tenant flat, its store and ExternalSecrets its own children.
        const expected = [
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
            "kubernetes:core/v1:Namespace",
            "kubernetes:core/v1:ServiceAccount",
            "kubernetes:external-secrets.io/v1:ExternalSecret",
            "kubernetes:external-secrets.io/v1:SecretStore",
            "vault:index/policy:Policy",
            "vault:kubernetes/authBackendRole:AuthBackendRole",
        ];
        expect([...new Set(childTypes("platform-tenant-team-a"))]).toEqual(expected);
        expect([...new Set(childTypes("platform-tenant-default"))]).toEqual(expected);
        expect(resources.filter((r) => WRAPPERS.includes(r.type))).toEqual([]);
        // Every Vault resource of a tenant goes through the program's Vault provider (admin token).
        for (const r of resources.filter((x) => x.type.startsWith("vault:") && x.parent.includes("platform:tenants:Tenant"))) {
            expect(r.provider).toMatch(/\$pulumi:providers:vault::platform-provider::/);
        }
        expect(await errorOf(run([tenant("default")]))).toContain(`${P}:tenants[0].name: "default" is the name of the default tenant (appNamespace + appSecrets); choose another`);
    });

    test("layouts: a new stack is flat; a stack deployed before the flat layout stays wrapped; the record keeps each tenant's, a new tenant is flat; flat resources alias the wrapped names", async () => {
        const esOf = (rs: Recorded[], t: string) => rs.find((r) => r.type === "kubernetes:external-secrets.io/v1:ExternalSecret" && r.name === `platform-tenant-${t}-db-es`)!;
        const storeOf = (rs: Recorded[], t: string) => rs.find((r) => r.type === "kubernetes:external-secrets.io/v1:SecretStore" && r.name === `platform-tenant-${t}-store-store`)!;

        // Never deployed: the program reads its own stack's outputs and finds none.
        const fresh = await run([tenant("team-a")]);
        // An invoke, no resource: nothing in the state, no step in a preview.
        expect(fresh.resources.filter((r) => r.type === "call:pulumi:pulumi:readStackOutputs").map((r) => r.inputs)).toEqual([{ name: "organization/vault-eso-platform/dev" }]);
        expect(fresh.resources.filter((r) => r.type === "pulumi:pulumi:StackReference")).toEqual([]);
        expect(fresh.outputs.tenantLayouts).toEqual({ default: "flat", "team-a": "flat" });

        // Deployed by a program from before the flat layout: outputs, but no record. All wrapped.
        const old = await run([tenant("team-a"), tenant("team-b"), tenant("team-c")], {}, { appNamespace: "demo-external-secrets" });
        expect(old.outputs.tenantLayouts).toEqual({ default: "wrapped", "team-a": "wrapped", "team-b": "wrapped", "team-c": "wrapped" });
        const wrapperOf = (t: string) => old.resources.find((r) => r.type === "platform:externalSecrets:ExternalSecret" && r.name === `platform-tenant-${t}-db`)!;
        expect(esOf(old.resources, "team-a").parent).toBe(wrapperOf("team-a").urn);
        expect(old.resources.filter((r) => r.type === "platform:externalSecrets:VaultSecretStore").map((r) => r.name).sort()).toEqual([
            "platform-tenant-default-store",
            "platform-tenant-team-a-store",
            "platform-tenant-team-b-store",
            "platform-tenant-team-c-store",
        ]);

        // The record: default and team-a as they were, team-b flat, team-c new (flat).
        const next = await run([tenant("team-a"), tenant("team-b"), tenant("team-c")], {}, { appNamespace: "demo-external-secrets", tenantLayouts: { default: "wrapped", "team-a": "wrapped", "team-b": "flat" } });
        expect(next.outputs.tenantLayouts).toEqual({ default: "wrapped", "team-a": "wrapped", "team-b": "flat", "team-c": "flat" });
        const wrapped = new Set(next.resources.filter((r) => WRAPPERS.includes(r.type)).map((r) => r.parent.split("::platform-tenant-").pop()));
        expect([...wrapped].sort()).toEqual(["default", "team-a"]);
        for (const t of ["team-b", "team-c"]) {
            // Same names as in the wrapped layout, the Tenant as parent, and an alias from under the
            // wrapper: a lost record moves them back without replacing anything.
            const es = esOf(next.resources, t);
            expect(es.parent).toMatch(new RegExp(`platform:tenants:Tenant::platform-tenant-${t}$`));
            expect(es.aliases).toEqual([`parentUrn=${wrapperOf(t).urn}`]);
            const wrappedStore = old.resources.find((r) => r.type === "platform:externalSecrets:VaultSecretStore" && r.name === `platform-tenant-${t}-store`)!;
            expect(storeOf(next.resources, t).aliases).toEqual([`parentUrn=${wrappedStore.urn}`]);
        }
        // Each object is declared the same way in both layouts.
        for (const t of ["team-a", "team-b", "team-c"]) {
            expect(esOf(next.resources, t).inputs).toEqual(esOf(old.resources, t).inputs);
            expect(storeOf(next.resources, t).inputs).toEqual(storeOf(old.resources, t).inputs);
        }
    });

    test("tenantSecretGuard: per tenant namespace a ValidatingAdmissionPolicy that lets only ESO write Opaque/dockerconfigjson Secrets, bound to that namespace; off when false", async () => {
        const { resources } = await run([tenant("team-a")]);
        const policies = resources.filter((r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy");
        const bindings = resources.filter((r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding");
        expect(policies.map((p) => p.inputs.metadata.name).sort()).toEqual(["tenant-secret-guard.demo-external-secrets", "tenant-secret-guard.team-a"]);
        const a = policies.find((p) => p.inputs.metadata.name === "tenant-secret-guard.team-a")!;
        expect(a.inputs.spec).toMatchObject({
            failurePolicy: "Fail",
            matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["secrets"] }] },
            matchConditions: [{ name: "guarded-types", expression: '!has(object.type) || object.type in ["Opaque", "kubernetes.io/dockerconfigjson"]' }],
            validations: [{ expression: 'request.userInfo.username in ["system:serviceaccount:external-secrets:external-secrets", "system:serviceaccount:kube-system:generic-garbage-collector", "system:kube-controller-manager"]', reason: "Forbidden" }],
        });
        expect(a.inputs.spec.validations[0].messageExpression).toContain("declare an ExternalSecret");
        const b = bindings.find((x) => x.inputs.metadata.name === "tenant-secret-guard.team-a")!;
        expect(b.inputs.spec).toEqual({
            policyName: "tenant-secret-guard.team-a",
            validationActions: ["Deny"],
            matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "team-a" } } },
        });
        const off = await run([tenant("team-a")], { tenantSecretGuard: "false" });
        expect(off.resources.filter((r) => r.type.startsWith("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"))).toEqual([]);
    });

    test("admin policy: a seeding tenant adds its kvPrefix once; another seeded secret of that tenant leaves it unchanged", async () => {
        const INIT = "pulumi-nodejs:dynamic/vault:VaultInit";
        const policyOf = async (secrets: unknown[]) => (await run([tenant("team-a", { secrets })])).resources.find((r) => r.type === INIT)!.inputs.adminPolicy;
        const one = await policyOf([{ name: "db", path: "team-a/db", keys: ["password"] }]);
        const two = await policyOf([{ name: "db", path: "team-a/db", keys: ["password"] }, { name: "api", path: "team-a/api", keys: ["token"] }]);
        expect(two).toBe(one);
        expect(one).toContain('path "kv/data/team-a/*"');
        // A tenant that seeds nothing needs no write access at all.
        const none = await policyOf([{ name: "db", path: "team-a/db", keys: ["password"], seed: "none" }]);
        expect(none).not.toContain("team-a");
    });

    test("no fan-in: an ExternalSecret waits for its own seeded entry only, a store for the KV mount only (not every tenant's seeds)", async () => {
        const { resources } = await run([tenant("team-a"), tenant("team-b")]);
        const seed = (p: string) => resources.find((r) => r.type === "vault:kv/secretV2:SecretV2" && r.inputs.name === p)!.urn;
        const es = resources.find((r) => r.type === "kubernetes:external-secrets.io/v1:ExternalSecret" && r.inputs.metadata.namespace === "team-a")!;
        expect(es.dependencies).toContain(seed("team-a/db"));
        expect(es.dependencies).not.toContain(seed("team-b/db"));
        const store = resources.find((r) => r.type === "kubernetes:external-secrets.io/v1:SecretStore" && r.inputs.metadata.namespace === "team-a")!;
        const seeds = resources.filter((r) => r.type === "vault:kv/secretV2:SecretV2").map((r) => r.urn);
        expect(store.dependencies.filter((d) => seeds.includes(d))).toEqual([]);
        expect(store.dependencies).toContain(resources.find((r) => r.type === "vault:index/mount:Mount")!.urn);
    });
});

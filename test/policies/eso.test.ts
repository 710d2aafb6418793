import { esoServedApi, esoVaultStoreTls, externalSecretShape, externalSecretStoreExists } from "../../policies/rules/eso";
import { clusterSecretStore, externalSecret, secretStore } from "./fixtures";
import { Fixture, UNKNOWN_VALUE, change, validateResource, validateStack } from "./harness";

const E = 'kubernetes:external-secrets.io/v1:ExternalSecret "registry-es": ';
const bounds = 'between "30s" and "24h"';

describe("eso-served-api-version", () => {
    it.each([externalSecret, secretStore, clusterSecretStore])("accepts v1 $type", async (f) => {
        expect((await validateResource(esoServedApi, f)).violations).toEqual([]);
    });

    it.each([
        ["v1beta1", "ExternalSecret"],
        ["v1beta1", "SecretStore"],
        ["v1alpha1", "SecretStore"],
        ["v1beta1", "ClusterSecretStore"],
    ])("flags %s %s", async (version, kind) => {
        const f: Fixture = { ...secretStore, type: `kubernetes:external-secrets.io/${version}:${kind}` };
        expect((await validateResource(esoServedApi, f)).violations).toEqual([
            `kubernetes:external-secrets.io/${version}:${kind} "platform-store": uses apiVersion "external-secrets.io/${version}". ` +
                `Fix: declare it as apiVersion "external-secrets.io/v1", kind "${kind}" (the v1 schema is the same for these fields).`,
        ]);
    });

    it("ignores other groups", async () => {
        expect((await validateResource(esoServedApi, { ...secretStore, type: "kubernetes:generators.external-secrets.io/v1alpha1:Password" })).violations).toEqual([]);
    });
});

describe("eso-external-secret-shape", () => {
    it("accepts the known-good ExternalSecret", async () => {
        expect((await validateResource(externalSecretShape, externalSecret)).violations).toEqual([]);
    });

    it("accepts unset refreshInterval and creationPolicy (ESO defaults 1h and Owner)", async () => {
        const f = change(change(externalSecret, "spec.refreshInterval", undefined), "spec.target.creationPolicy", undefined);
        expect((await validateResource(externalSecretShape, f)).violations).toEqual([]);
    });

    it.each(["30s", "1m", "1h30m", "24h"])("accepts refreshInterval %s", async (interval) => {
        expect((await validateResource(externalSecretShape, change(externalSecret, "spec.refreshInterval", interval))).violations).toEqual([]);
    });

    it.each([
        ["10s", "10s"],
        ["48h", "48h"],
        ["1500ms", "1.5s"],
    ])("flags refreshInterval %s", async (interval, shown) => {
        const v = await validateResource(externalSecretShape, change(externalSecret, "spec.refreshInterval", interval));
        expect(v.violations).toEqual([E + `spec.refreshInterval "${interval}" (${shown}) is outside the allowed range. Fix: set a refreshInterval ${bounds}.`]);
    });

    it("flags refreshInterval 0 (never refresh)", async () => {
        const v = await validateResource(externalSecretShape, change(externalSecret, "spec.refreshInterval", "0"));
        expect(v.violations).toEqual([
            E + `spec.refreshInterval "0" disables refresh, so rotated values in Vault never reach the Secret. Fix: set a refreshInterval ${bounds}.`,
        ]);
    });

    it("allows refreshInterval 0 with allowNoRefresh", async () => {
        const v = await validateResource(externalSecretShape, change(externalSecret, "spec.refreshInterval", "0s"), { config: { allowNoRefresh: true } });
        expect(v.violations).toEqual([]);
    });

    it("flags a refreshInterval that is not a Go duration", async () => {
        const v = await validateResource(externalSecretShape, change(externalSecret, "spec.refreshInterval", "1d"));
        expect(v.violations).toEqual([E + `spec.refreshInterval "1d" is not a Go duration. Fix: use a duration such as "1h" ${bounds}.`]);
    });

    it("honours configured bounds", async () => {
        const config = { minRefreshInterval: "5m", maxRefreshInterval: "30m" };
        const v = await validateResource(externalSecretShape, externalSecret, { config });
        expect(v.violations).toEqual([
            E + 'spec.refreshInterval "1h" (1h) is outside the allowed range. Fix: set a refreshInterval between "5m" and "30m".',
        ]);
    });

    it.each(["Orphan", "Merge", "None"])("flags creationPolicy %s", async (policy) => {
        const v = await validateResource(externalSecretShape, change(externalSecret, "spec.target.creationPolicy", policy));
        expect(v.violations).toEqual([
            E +
                `spec.target.creationPolicy is "${policy}"; only "Owner" makes external-secrets set an ownerReference and the ` +
                '"reconcile.external-secrets.io/created-by" label on the Secret. Fix: remove creationPolicy or set it to "Owner".',
        ]);
    });

    it("flags ESO's own labels in the target template", async () => {
        const f = change(externalSecret, "spec.target.template.metadata.labels", { "reconcile.external-secrets.io/created-by": "x", team: "a" });
        expect((await validateResource(externalSecretShape, f)).violations).toEqual([
            E +
                'spec.target.template.metadata.labels sets "reconcile.external-secrets.io/created-by", which external-secrets manages itself. ' +
                "Fix: remove these labels from the template; with creationPolicy Owner external-secrets adds them.",
        ]);
    });

    it("checks the spec inside a ClusterExternalSecret", async () => {
        const ces: Fixture = {
            type: "kubernetes:external-secrets.io/v1:ClusterExternalSecret",
            name: "shared",
            props: { metadata: { name: "shared" }, spec: { externalSecretSpec: { refreshInterval: "5s" } } },
        };
        expect((await validateResource(externalSecretShape, ces)).violations).toEqual([
            `kubernetes:external-secrets.io/v1:ClusterExternalSecret "shared": spec.refreshInterval "5s" (5s) is outside the allowed range. Fix: set a refreshInterval ${bounds}.`,
        ]);
    });

    it("skips values unknown during preview", async () => {
        const f = change(change(externalSecret, "spec.refreshInterval", UNKNOWN_VALUE), "spec.target.creationPolicy", UNKNOWN_VALUE);
        expect((await validateResource(externalSecretShape, f)).violations).toEqual([]);
    });
});

describe("eso-store-ref-exists", () => {
    const stores = [secretStore, clusterSecretStore];

    it("accepts a SecretStore in the same namespace", async () => {
        expect((await validateStack(externalSecretStoreExists, [...stores, externalSecret])).violations).toEqual([]);
    });

    it("accepts a ClusterSecretStore from any namespace", async () => {
        const f = change(change(externalSecret, "spec.secretStoreRef", { name: "vault-cluster", kind: "ClusterSecretStore" }), "metadata.namespace", "other");
        expect((await validateStack(externalSecretStoreExists, [...stores, f])).violations).toEqual([]);
    });

    it("flags a SecretStore in another namespace", async () => {
        const f = change(externalSecret, "metadata.namespace", "other");
        expect((await validateStack(externalSecretStoreExists, [...stores, f])).violations).toEqual([
            E +
                'spec.secretStoreRef names SecretStore "vault", which this program does not declare in namespace "other". ' +
                'Fix: declare a SecretStore with metadata.name "vault" in namespace "other", or point spec.secretStoreRef at an existing one.',
        ]);
    });

    it("treats an unset kind as SecretStore", async () => {
        const f = change(externalSecret, "spec.secretStoreRef", { name: "vault-cluster" });
        expect((await validateStack(externalSecretStoreExists, [...stores, f])).violations).toEqual([
            E +
                'spec.secretStoreRef names SecretStore "vault-cluster", which this program does not declare in namespace "apps". ' +
                'Fix: declare a SecretStore with metadata.name "vault-cluster" in namespace "apps", or point spec.secretStoreRef at an existing one.',
        ]);
    });

    it("flags a missing ClusterSecretStore", async () => {
        const f = change(externalSecret, "spec.secretStoreRef", { name: "es-secret-store", kind: "ClusterSecretStore" });
        expect((await validateStack(externalSecretStoreExists, [secretStore, f])).violations).toEqual([
            E +
                'spec.secretStoreRef names ClusterSecretStore "es-secret-store", which this program does not declare. ' +
                'Fix: declare a ClusterSecretStore with metadata.name "es-secret-store", or point spec.secretStoreRef at an existing one.',
        ]);
    });

    it("checks per-entry sourceRef.storeRef", async () => {
        const f = change(externalSecret, "spec.data.1.sourceRef", { storeRef: { name: "gone", kind: "SecretStore" } });
        expect((await validateStack(externalSecretStoreExists, [...stores, f])).violations).toEqual([
            E +
                'spec.data[1].sourceRef.storeRef names SecretStore "gone", which this program does not declare in namespace "apps". ' +
                'Fix: declare a SecretStore with metadata.name "gone" in namespace "apps", or point spec.data[1].sourceRef.storeRef at an existing one.',
        ]);
    });

    it("matches namespaces that are unknown during preview", async () => {
        const f = change(externalSecret, "metadata.namespace", UNKNOWN_VALUE);
        expect((await validateStack(externalSecretStoreExists, [...stores, f])).violations).toEqual([]);
    });
});

describe("eso-vault-store-tls", () => {
    const plain = change(secretStore, "spec.provider.vault.server", "http://vault.vault:8200");

    it.each(["prod", "staging"])("accepts https stores in %s", async (stack) => {
        expect(await validateStack(esoVaultStoreTls, [secretStore, clusterSecretStore], { stack })).toEqual({ violations: [] });
    });

    it("does not apply to dev stacks", async () => {
        expect((await validateStack(esoVaultStoreTls, [plain], { stack: "dev" })).notApplicable).toBe('stack "dev" is a dev stack');
    });

    it("flags the guide's http store outside dev", async () => {
        expect((await validateStack(esoVaultStoreTls, [plain, clusterSecretStore], { stack: "prod" })).violations).toEqual([
            'kubernetes:external-secrets.io/v1:SecretStore "platform-store": spec.provider.vault.server is "http://vault.vault:8200" in stack "prod" (environment prod), ' +
                "so tokens and secrets travel unencrypted. Fix: serve Vault over TLS and use an https:// address (with caProvider/caBundle for a private CA).",
        ]);
    });

    it("flags an http ClusterSecretStore", async () => {
        const f = change(clusterSecretStore, "spec.provider.vault.server", "http://vault.vault.svc:8200");
        expect((await validateStack(esoVaultStoreTls, [f], { stack: "staging" })).violations).toHaveLength(1);
    });

    it("skips an address unknown during preview", async () => {
        const f = change(secretStore, "spec.provider.vault.server", UNKNOWN_VALUE);
        expect((await validateStack(esoVaultStoreTls, [f], { stack: "prod" })).violations).toEqual([]);
    });
});

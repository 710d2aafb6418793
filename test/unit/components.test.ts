import { recordComponents } from "../support/components";
import { one, unwrap } from "../support/program";

const role = {
    name: "external-secrets",
    serviceAccountNames: ["reader"],
    namespaces: ["apps"],
    policyHcl: 'path "kv/data/a" {\n  capabilities = ["read"]\n}\n',
    tokenTtlSeconds: 600,
    tokenMaxTtlSeconds: 3600,
    audience: "vault",
};
const authArgs = { kubernetesHost: "https://k8s:6443", kubernetesCaCert: "CA", tokenReviewerJwt: "jwt", roles: [role] };

describe("components on their own", () => {
    test("KubernetesAuth refuses wildcard and empty bindings and inverted TTLs, all at once", async () => {
        const error = await recordComponents(async () => {
            const { KubernetesAuth } = await import("../../components/vault/kubernetesAuth");
            new KubernetesAuth("auth", { ...authArgs, roles: [{ ...role, serviceAccountNames: ["*"], namespaces: [], tokenTtlSeconds: 7200 }] });
        }).catch((e) => e);
        expect(error.message).toBe("invalid KubernetesAuth arguments");
        expect(error.errors).toEqual([
            { propertyPath: "roles[0].serviceAccountNames", reason: "must list exact names; wildcards and empty lists bind every service account" },
            { propertyPath: "roles[0].namespaces", reason: "must list exact names; wildcards and empty lists bind every service account" },
            { propertyPath: "roles[0].tokenTtlSeconds", reason: "must be positive and not above tokenMaxTtlSeconds" },
        ]);
    });

    test("KubernetesAuth: children are parented to it and issuer validation follows the issuer setting", async () => {
        const resources = await recordComponents(async () => {
            const { KubernetesAuth } = await import("../../components/vault/kubernetesAuth");
            new KubernetesAuth("auth", { ...authArgs, issuer: "https://kubernetes.default.svc.cluster.local" });
        });
        const component = one(resources, "platform:vault:KubernetesAuth");
        for (const child of resources.filter((r) => r.type.startsWith("vault:"))) expect(child.parent).toBe(component.urn);
        expect(one(resources, "vault:kubernetes/authBackendConfig:AuthBackendConfig").inputs).toMatchObject({
            issuer: "https://kubernetes.default.svc.cluster.local",
            disableIssValidation: false,
        });
    });

    test("TokenReviewer exposes the controller-filled token as a secret and the CA in clear", async () => {
        let jwt: { value: string; secret: boolean } | undefined;
        let ca: { value: string; secret: boolean } | undefined;
        await recordComponents(async () => {
            const { TokenReviewer } = await import("../../components/vault/tokenReviewer");
            const reviewer = new TokenReviewer("rev", { namespace: "vault", serviceAccountName: "vault" });
            [jwt, ca] = await Promise.all([unwrap(reviewer.jwt), unwrap(reviewer.caCert)]);
        });
        expect(jwt).toEqual({ value: "reviewer-jwt", secret: true });
        expect(ca).toEqual({ value: "-----BEGIN CERTIFICATE-----\nMOCK", secret: false });
    });

    test("KvEngine keeps the mount and seeded entries on destroy and marks their data secret", async () => {
        const resources = await recordComponents(async () => {
            const { KvEngine } = await import("../../components/vault/kv");
            new KvEngine("kv", { path: "secret", seeds: [{ path: "app/db", values: { user: "app", pass: undefined } }] });
        });
        const mount = one(resources, "vault:index/mount:Mount");
        expect(mount.retainOnDelete).toBe(true);
        const entry = one(resources, "vault:kv/secretV2:SecretV2");
        expect(entry.retainOnDelete).toBe(true);
        expect(JSON.parse(entry.inputs.dataJson)).toEqual({ user: "app", pass: "generated-kv-app-db-pass" });
        expect(one(resources, "random:index/randomPassword:RandomPassword").inputs).toMatchObject({ length: 32, special: false });
    });

    test("VaultSecretStore: a namespaced store needs a namespace", async () => {
        const error = await recordComponents(async () => {
            const { VaultSecretStore } = await import("../../components/externalSecrets/secretStore");
            new VaultSecretStore("s", { name: "vault", server: "http://v:8200", kvMount: "kv", authMountPath: "kubernetes", role: "r", serviceAccount: { name: "sa" }, audience: "vault" });
        }).catch((e) => e);
        expect(error.errors).toEqual([{ propertyPath: "namespace", reason: "a SecretStore needs a namespace (or use kind ClusterSecretStore)" }]);
    });

    test("ExternalSecret needs at least one key", async () => {
        const error = await recordComponents(async () => {
            const { ExternalSecret } = await import("../../components/externalSecrets/externalSecret");
            new ExternalSecret("e", { name: "x", namespace: "apps", storeRef: { name: "vault", kind: "SecretStore" }, data: [] });
        }).catch((e) => e);
        expect(error.errors).toEqual([{ propertyPath: "data", reason: "map at least one key" }]);
    });

    test("VaultServer validates before creating anything", async () => {
        const error = await recordComponents(async () => {
            const { VaultServer } = await import("../../components/vault/server");
            new VaultServer("v", {
                mode: "external",
                namespace: "Vault",
                chart: { name: "vault", repo: "https://x", version: "0.34.1" },
                serviceAccount: "vault",
                ha: true,
                replicas: 1,
                ui: false,
                injector: false,
                storageSize: "1Gi",
                secretShares: 3,
                secretThreshold: 4,
            });
        }).catch((e) => e);
        expect(error.errors.map((e: { propertyPath: string }) => e.propertyPath)).toEqual(["namespace", "address", "secretThreshold", "replicas"]);
        // Only the component itself was registered: no namespace, chart or init.
        expect(error.resources.map((r: { type: string }) => r.type)).toEqual(["platform:vault:VaultServer"]);
    });

    const serverArgs = {
        namespace: "vault",
        serviceAccount: "vault",
        ha: false,
        replicas: 1,
        ui: true,
        injector: false,
        storageSize: "1Gi",
    };
    const openbaoChart = { name: "openbao", repo: "https://openbao.github.io/openbao-helm", version: "0.8.0" };

    test("VaultServer audit: HashiCorp Vault through vault.Audit; OpenBao declared in HCL and checked through sys/audit", async () => {
        const hashicorp = await recordComponents(async () => {
            const { VaultServer } = await import("../../components/vault/server");
            new VaultServer("v", { ...serverArgs, chart: { name: "vault", repo: "https://helm.releases.hashicorp.com", version: "0.30.1" } });
        });
        const provider = one(hashicorp, "pulumi:providers:vault");
        expect(one(hashicorp, "vault:index/audit:Audit").provider).toBe(`${provider.urn}::${provider.name}-id`);
        expect(hashicorp.filter((r) => r.type.startsWith("call:"))).toHaveLength(0);

        const openbao = await recordComponents(async () => {
            const { VaultServer } = await import("../../components/vault/server");
            new VaultServer("v", { ...serverArgs, chart: openbaoChart });
        });
        expect(openbao.filter((r) => r.type === "vault:index/audit:Audit")).toHaveLength(0);
        const chart = one(openbao, "kubernetes:helm.sh/v4:Chart");
        expect(chart.inputs.values.server.standalone.config).toContain('audit "file" "stdout"');
        const read = one(openbao, "call:vault:generic/getSecret:getSecret");
        expect(read.inputs.path).toBe("sys/audit");
        const bp = one(openbao, "pulumi:providers:vault");
        expect(read.provider).toBe(`${bp.urn}::${bp.name}-id`);
    });

    test("VaultServer with the openbao chart: release openbao; init targets openbao-N, ESO reaches the openbao Service, raft joins openbao-0", async () => {
        let address: { value: string; secret: boolean } | undefined;
        const ha = await recordComponents(async () => {
            const { VaultServer } = await import("../../components/vault/server");
            const v = new VaultServer("v", { ...serverArgs, ha: true, replicas: 3, chart: openbaoChart });
            address = await unwrap(v.clusterAddress);
        });
        expect(one(ha, "kubernetes:helm.sh/v4:Chart").inputs.name).toBe("openbao");
        const init = one(ha, "pulumi-nodejs:dynamic/vault:VaultInit");
        expect(init.inputs.kubernetes).toMatchObject({ namespace: "vault", podNames: ["openbao-0", "openbao-1", "openbao-2"] });
        expect(init.inputs.raftLeaderApiAddr).toBe("http://openbao-0.openbao-internal:8200");
        // HA: ESO reaches the active node through the chart's openbao-active Service.
        expect(address?.value).toBe("http://openbao-active.vault.svc:8200");
    });

    test("ESO's address: the main Service standalone; under HA the active Service where the server labels it", async () => {
        const { activeServiceSelectsServer } = await import("../../components/vault/server");
        expect(activeServiceSelectsServer("vault", "vault")).toBe(true);
        expect(activeServiceSelectsServer("openbao", "openbao")).toBe(true);
        // vault-helm with an OpenBao image: OpenBao labels openbao-active, vault-active selects nothing.
        expect(activeServiceSelectsServer("vault", "openbao")).toBe(false);
        const addresses: string[] = [];
        for (const extra of [{}, { ha: true, replicas: 3 }, { ha: true, replicas: 3, image: { repository: "openbao/openbao", tag: "2.7.2" } }]) {
            await recordComponents(async () => {
                const { VaultServer } = await import("../../components/vault/server");
                const v = new VaultServer("v", { ...serverArgs, ...extra, chart: { name: "vault", repo: "https://helm.releases.hashicorp.com", version: "0.34.1" } });
                addresses.push((await unwrap(v.clusterAddress)).value as string);
            });
        }
        expect(addresses).toEqual(["http://vault.vault.svc:8200", "http://vault-active.vault.svc:8200", "http://vault.vault.svc:8200"]);
    });

    test("VaultServer: the init escrow cleanup runs after the init resource, on the same target", async () => {
        const chart = await recordComponents(async () => {
            const { VaultServer } = await import("../../components/vault/server");
            new VaultServer("v", { ...serverArgs, chart: openbaoChart });
        });
        const init = one(chart, "pulumi-nodejs:dynamic/vault:VaultInit");
        const cleanup = one(chart, "pulumi-nodejs:dynamic/vault:VaultInitEscrowCleanup");
        expect(cleanup.dependencies).toContain(init.urn);
        expect(cleanup.inputs.kubernetes).toEqual({ namespace: "vault", podNames: ["openbao-0"] });
        expect(cleanup.inputs.initId).toBe(`${init.name}-id`);
    });

    test("escrow location: a Secret in Vault's namespace (chart mode); a 0600 file beside a file backend's state, else under PULUMI_HOME (external)", async () => {
        const { escrowLocation } = await import("../../components/vault/init/escrow");
        expect(escrowLocation({ kubernetes: { namespace: "vault", podNames: ["vault-0"] } })).toEqual({ kind: "secret", namespace: "vault", name: "vault-init-escrow", kubeconfig: undefined, context: undefined });
        const saved = { backend: process.env.PULUMI_BACKEND_URL, home: process.env.PULUMI_HOME };
        try {
            process.env.PULUMI_BACKEND_URL = "file:///srv/state";
            const a = escrowLocation({ address: "https://vault.example.com:8200" });
            expect(a).toMatchObject({ kind: "file" });
            expect((a as { path: string }).path).toMatch(/^\/srv\/state\/\.vault-init-escrow\/[0-9a-f]{16}\.json$/);
            expect((escrowLocation({ address: "https://other:8200" }) as { path: string }).path).not.toBe((a as { path: string }).path);
            delete process.env.PULUMI_BACKEND_URL;
            process.env.PULUMI_HOME = "/home/u/.pulumi";
            expect((escrowLocation({ address: "https://vault.example.com:8200" }) as { path: string }).path).toMatch(/^\/home\/u\/\.pulumi\/vault-init-escrow\//);
        } finally {
            if (saved.backend === undefined) delete process.env.PULUMI_BACKEND_URL;
            else process.env.PULUMI_BACKEND_URL = saved.backend;
            if (saved.home === undefined) delete process.env.PULUMI_HOME;
            else process.env.PULUMI_HOME = saved.home;
        }
    });

    test("VaultServer: an external OpenBao is checked for an audit device; none fails with the fix; audit off skips the check", async () => {
        const external = { ...serverArgs, mode: "external" as const, address: "http://127.0.0.1:8200", flavor: "openbao" as const, chart: { name: "vault", repo: "", version: "" } };
        const on = await recordComponents(async () => {
            const { VaultServer } = await import("../../components/vault/server");
            new VaultServer("v", external);
        });
        expect(one(on, "call:vault:generic/getSecret:getSecret").inputs.path).toBe("sys/audit");
        expect(on.filter((r) => r.type === "vault:index/audit:Audit")).toHaveLength(0);
        const { auditDeviceNames } = await import("../../components/vault/server");
        expect(auditDeviceNames(JSON.stringify({ "stdout/": { type: "file" }, "local/": { type: "file" } }))).toEqual(["local/", "stdout/"]);
        // A preview whose provider token is unknown (Vault sealed, init to be updated) gets no answer: not an error.
        expect(auditDeviceNames(undefined)).toEqual([]);
        expect(auditDeviceNames("")).toEqual([]);
        expect(() => auditDeviceNames("{}")).toThrow(
            'vaultAudit is on but this OpenBao has no audit device, and OpenBao refuses to enable one through the API. Declare one in the server configuration (audit "file" "stdout" { options { file_path = "/dev/stdout" } }) and restart it, or set vaultAudit to false.',
        );

        const off = await recordComponents(async () => {
            const { VaultServer } = await import("../../components/vault/server");
            new VaultServer("v", { ...external, audit: false });
        });
        expect(off.filter((r) => r.type.startsWith("call:") || r.type === "vault:index/audit:Audit")).toHaveLength(0);
    });

    test("VaultServer refuses a flavor that contradicts the chart", async () => {
        const error = await recordComponents(async () => {
            const { VaultServer } = await import("../../components/vault/server");
            new VaultServer("v", { ...serverArgs, chart: openbaoChart, flavor: "vault" });
        }).catch((e) => e);
        expect(error.errors.map((e: { propertyPath: string }) => e.propertyPath)).toEqual(["flavor"]);
    });

    test("VaultServer in chart mode keeps its namespace and init state on destroy", async () => {
        const resources = await recordComponents(async () => {
            const { VaultServer } = await import("../../components/vault/server");
            new VaultServer("v", {
                ...serverArgs,
                chart: { name: "vault", repo: "https://helm.releases.hashicorp.com", version: "0.34.1", path: "./charts/vault" },
                audit: false,
            });
        });
        expect(one(resources, "kubernetes:core/v1:Namespace").retainOnDelete).toBe(true);
        expect(one(resources, "pulumi-nodejs:dynamic/vault:VaultInit").retainOnDelete).toBe(true);
        // A local chart path wins over the repository (air-gapped installs).
        const chart = one(resources, "kubernetes:helm.sh/v4:Chart");
        expect(chart.inputs.chart).toBe("./charts/vault");
        expect(chart.inputs.version).toBeUndefined();
        expect(resources.filter((r) => r.type === "vault:index/audit:Audit")).toHaveLength(0);
    });
});

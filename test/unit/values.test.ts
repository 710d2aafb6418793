import { READINESS_PATH, imageValues, releaseNameFor, serverHcl, vaultChartValues, VaultChartOptions } from "../../components/vault/values";

const standalone: VaultChartOptions = {
    releaseName: "vault",
    namespace: "vault",
    serviceAccount: "vault",
    ha: false,
    replicas: 1,
    ui: true,
    injector: false,
    storageSize: "10Gi",
};

describe("Vault chart values", () => {
    test("standalone: file storage, no TLS, sealed pods NotReady (StatefulSet not awaited), injector off, nothing exposed", () => {
        const values = vaultChartValues(standalone) as any;
        expect(values.global).toEqual({ tlsDisable: true });
        expect(values.injector).toEqual({ enabled: false });
        expect(values.ui).toEqual({ enabled: true, serviceType: "ClusterIP" });
        expect(values.server.readinessProbe).toEqual({ enabled: true, path: "/v1/sys/health?standbyok=true", initialDelaySeconds: 2, periodSeconds: 2 });
        expect(values.server.statefulSet).toEqual({ annotations: { "pulumi.com/skipAwait": "true" } });
        expect(values.server.ha).toEqual({ enabled: false });
        expect(values.server.standalone.enabled).toBe(true);
        // ESO's Service routes to unsealed pods only, and is not awaited (it has none before init).
        expect(values.server.service).toEqual({ type: "ClusterIP", publishNotReadyAddresses: false, annotations: { "pulumi.com/skipAwait": "true" } });
        expect(values.server.ingress).toEqual({ enabled: false });
        expect(values.server.standalone.config).toBe(
            'ui = true\n\nlistener "tcp" {\n  address = "[::]:8200"\n  cluster_address = "[::]:8201"\n  tls_disable = 1\n}\n\nstorage "file" {\n  path = "/vault/data"\n}\n',
        );
        expect(READINESS_PATH).not.toContain("sealedcode");
    });

    test("HA anti-affinity: the chart's required default unless preferred is asked for; standalone never changes it", () => {
        const ha = { ...standalone, ha: true, replicas: 3 };
        expect((vaultChartValues(ha) as any).server.affinity).toBeUndefined();
        expect((vaultChartValues({ ...ha, podAntiAffinity: "required" }) as any).server.affinity).toBeUndefined();
        expect((vaultChartValues({ ...standalone, podAntiAffinity: "preferred" }) as any).server.affinity).toBeUndefined();
        expect((vaultChartValues({ ...ha, podAntiAffinity: "preferred" }) as any).server.affinity).toEqual({
            podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                        weight: 100,
                        podAffinityTerm: {
                            labelSelector: { matchLabels: { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "vault", component: "server" } },
                            topologyKey: "kubernetes.io/hostname",
                        },
                    },
                ],
            },
        });
    });

    test("HA raft with TLS: every peer in retry_join, certificates from the TLS secret", () => {
        const ha = { ...standalone, ha: true, replicas: 3, tlsSecretName: "vault-tls", ui: false };
        const values = vaultChartValues(ha) as any;
        expect(values.global).toEqual({ tlsDisable: false });
        expect(values.server.standalone.enabled).toBe(false);
        expect(values.server.ha).toMatchObject({ enabled: true, replicas: 3, raft: { enabled: true, setNodeId: true } });
        expect(values.server.extraVolumes).toEqual([{ type: "secret", name: "vault-tls" }]);
        const hcl = serverHcl(ha);
        for (const i of [0, 1, 2]) expect(hcl).toContain(`leader_api_addr = "https://vault-${i}.vault-internal:8200"`);
        expect(hcl).toContain('tls_cert_file = "/vault/userconfig/vault-tls/tls.crt"');
        expect(hcl).toContain('storage "raft"');
        expect(hcl).toContain('service_registration "kubernetes" {}');
        expect(hcl).not.toContain("tls_disable");
    });

    test("an explicit image replaces the chart's; OpenBao (no file backend) gets single-node raft", () => {
        const openbao = { ...standalone, image: { repository: "openbao/openbao", tag: "2.4.1" } };
        const values = vaultChartValues(openbao) as any;
        expect(values.server.image).toEqual({ repository: "openbao/openbao", tag: "2.4.1" });
        expect(values.server.standalone.config).toContain('storage "raft" {\n  path = "/vault/data"\n  node_id = "vault-0"\n}');
        expect(serverHcl({ ...standalone, chartName: "openbao" })).toContain('storage "raft"');
        expect(serverHcl(standalone)).toContain('storage "file"');
    });

    test("OpenBao's listener allows the unauthenticated generate-root endpoints (admin token recovery); Vault's HCL has no such key", () => {
        expect(serverHcl({ ...standalone, chartName: "openbao" })).toContain('  tls_disable = 1\n  disable_unauthed_generate_root_endpoints = false\n}');
        expect(serverHcl({ ...standalone, ha: true, replicas: 3, tlsSecretName: "t", image: { repository: "openbao/openbao", tag: "2.4.1" } })).toContain("disable_unauthed_generate_root_endpoints = false");
        expect(serverHcl(standalone)).not.toContain("generate_root");
    });

    test("audit: OpenBao gets a declarative audit block (it refuses the API); HashiCorp Vault gets none in HCL", () => {
        const block = 'audit "file" "stdout" {\n  options {\n    file_path = "/dev/stdout"\n  }\n}';
        expect(serverHcl({ ...standalone, chartName: "openbao", audit: true })).toContain(block);
        expect(serverHcl({ ...standalone, ha: true, replicas: 3, image: { repository: "openbao/openbao", tag: "2.4.1" }, audit: true })).toContain(block);
        expect(serverHcl({ ...standalone, chartName: "openbao", audit: false })).not.toContain("audit");
        // HashiCorp Vault: vault.Audit enables it through the API (VaultServer), the HCL stays as it was.
        expect(serverHcl({ ...standalone, audit: true })).toBe(serverHcl(standalone));
    });
});

/** Dotted paths of every leaf value (arrays and HCL strings count as leaves). */
function leafPaths(v: unknown, prefix = ""): string[] {
    if (v === null || typeof v !== "object" || Array.isArray(v) || Object.keys(v).length === 0) return [prefix];
    return Object.entries(v).flatMap(([k, x]) => leafPaths(x, prefix ? `${prefix}.${k}` : k));
}

describe("chart values checked against the pinned chart (docs/chart-upgrade-notes.md)", () => {
    // Each path was read in vault-helm 0.34.1's values.yaml, schema and templates. A new path must be
    // checked there (and added to the notes) before it joins this list.
    const checked = [
        "global.tlsDisable",
        "injector.enabled",
        "ui.enabled",
        "ui.serviceType",
        "server.serviceAccount.create",
        "server.serviceAccount.name",
        "server.readinessProbe.enabled",
        "server.readinessProbe.path",
        "server.readinessProbe.initialDelaySeconds",
        "server.readinessProbe.periodSeconds",
        "server.dataStorage.enabled",
        "server.dataStorage.size",
        "server.standalone.enabled",
        "server.standalone.config",
        "server.ha.enabled",
        "server.ha.replicas",
        "server.ha.raft.enabled",
        "server.ha.raft.setNodeId",
        "server.ha.raft.config",
        "server.service.type",
        "server.service.publishNotReadyAddresses",
        "server.service.annotations.pulumi.com/skipAwait",
        "server.ingress.enabled",
        "server.image.repository",
        "server.image.tag",
        "server.extraVolumes",
        "server.extraEnvironmentVars.VAULT_CACERT",
        "server.statefulSet.annotations.pulumi.com/skipAwait",
        "server.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution",
        // vaultSeal: credentials from a Secret, a mounted file credential, workload identity.
        "server.extraSecretEnvironmentVars",
        "server.extraEnvironmentVars.GOOGLE_APPLICATION_CREDENTIALS",
        "server.serviceAccount.annotations.eks.amazonaws.com/role-arn",
        // The openbao chart (0.29.2): its own registry value and pod management policy.
        "server.image.registry",
        "server.podManagementPolicy",
        "server.extraEnvironmentVars.BAO_CACERT",
    ];

    test("the Vault chart gets no value outside the checked set, in any variant", () => {
        const variants = [
            standalone,
            { ...standalone, ha: true, replicas: 3, tlsSecretName: "vault-tls", ui: false },
            { ...standalone, image: { repository: "hashicorp/vault", tag: "1.21.9" } },
            { ...standalone, ha: true, replicas: 3, podAntiAffinity: "preferred" as const },
            { ...standalone, seal: { type: "transit" as const, params: { address: "https://t:8200", keyName: "k", mountPath: "transit/" }, credentialsSecret: "t" } },
            { ...standalone, seal: { type: "gcpckms" as const, params: { project: "p", region: "r", keyRing: "k", cryptoKey: "c" }, credentialsSecret: "g" } },
            { ...standalone, seal: { type: "awskms" as const, params: { kmsKeyId: "k" }, serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn" } } },
            { ...standalone, releaseName: "openbao", chartName: "openbao", ha: true, replicas: 3, tlsSecretName: "t", image: { repository: "localhost/vep/openbao", tag: "2.7.2" } },
        ];
        const used = new Set(variants.flatMap((o) => leafPaths(vaultChartValues(o))));
        expect([...used].filter((p) => !checked.includes(p))).toEqual([]);
        // The list is not stale either: every checked path is still set by some variant.
        expect(checked.filter((p) => !used.has(p))).toEqual([]);
    });

    test("the openbao chart: release openbao (so pods are openbao-N, not vault-openbao-N), its /openbao paths, BAO_CACERT", () => {
        expect(releaseNameFor("openbao")).toBe("openbao");
        expect(releaseNameFor("vault")).toBe("vault");
        expect(releaseNameFor(undefined)).toBe("vault");
        const bao = { ...standalone, releaseName: "openbao", chartName: "openbao" };
        expect(serverHcl(bao)).toContain('storage "raft" {\n  path = "/openbao/data"\n  node_id = "openbao-0"\n}');
        const ha = { ...bao, ha: true, replicas: 3, tlsSecretName: "bao-tls" };
        const hcl = serverHcl(ha);
        for (const i of [0, 1, 2]) expect(hcl).toContain(`leader_api_addr = "https://openbao-${i}.openbao-internal:8200"`);
        expect(hcl).toContain('leader_ca_cert_file = "/openbao/userconfig/bao-tls/ca.crt"');
        expect(hcl).toContain('tls_cert_file = "/openbao/userconfig/bao-tls/tls.crt"');
        expect(hcl).not.toContain("/vault/");
        const values = vaultChartValues(ha) as any;
        expect(values.server.extraEnvironmentVars).toEqual({ BAO_CACERT: "/openbao/userconfig/bao-tls/ca.crt" });
        expect(values.server.ha.raft.config).toBe(hcl);
        // Its HA pods start together, as vault-helm's do (the chart's default OrderedReady would hold
        // pod 1 until pod 0 is unsealed, while init waits for every pod).
        expect(values.server.podManagementPolicy).toBe("Parallel");
        expect((vaultChartValues({ ...standalone, ha: true, replicas: 3 }) as any).server.podManagementPolicy).toBeUndefined();
        // vault-helm keeps its paths and variable.
        expect((vaultChartValues({ ...standalone, tlsSecretName: "t" }) as any).server.extraEnvironmentVars).toEqual({ VAULT_CACERT: "/vault/userconfig/t/ca.crt" });
    });

    test("image values: the openbao chart's registry value takes a registry host; vault-helm takes the repository whole", () => {
        expect(imageValues({ chartName: "openbao", image: { repository: "localhost/vep/openbao", tag: "2.7.2" } })).toEqual({ registry: "localhost", repository: "vep/openbao", tag: "2.7.2" });
        expect(imageValues({ chartName: "openbao", image: { repository: "registry.example.com:5000/openbao/openbao", tag: "2.7.2" } })).toEqual({
            registry: "registry.example.com:5000",
            repository: "openbao/openbao",
            tag: "2.7.2",
        });
        // No host: the chart's own registry (quay.io) stays.
        expect(imageValues({ chartName: "openbao", image: { repository: "openbao/openbao", tag: "2.7.2" } })).toEqual({ repository: "openbao/openbao", tag: "2.7.2" });
        expect(imageValues({ chartName: "vault", image: { repository: "localhost/vep/vault", tag: "1.21.4" } })).toEqual({ repository: "localhost/vep/vault", tag: "1.21.4" });
        expect(imageValues({ chartName: "openbao" })).toBeUndefined();
    });
});

describe("seal stanza and credentials", () => {
    const transit = {
        type: "transit" as const,
        params: { address: "http://10.214.0.1:8300", keyName: "autounseal", mountPath: "transit/", tlsSkipVerify: false },
        credentialsSecret: "vault-transit-token",
    };

    test("transit: the stanza in the server HCL (no token), the token from the Secret as VAULT_TOKEN (BAO_TOKEN for the openbao chart)", () => {
        const o = { ...standalone, seal: transit };
        const hcl = serverHcl(o);
        expect(hcl).toContain('seal "transit" {\n  address = "http://10.214.0.1:8300"\n  key_name = "autounseal"\n  mount_path = "transit/"\n  tls_skip_verify = false\n}');
        expect(hcl).not.toMatch(/token/);
        expect((vaultChartValues(o) as any).server.extraSecretEnvironmentVars).toEqual([{ envName: "VAULT_TOKEN", secretName: "vault-transit-token", secretKey: "token" }]);
        const bao = { ...o, releaseName: "openbao", chartName: "openbao", ha: true, replicas: 3 };
        const values = vaultChartValues(bao) as any;
        expect(values.server.extraSecretEnvironmentVars).toEqual([{ envName: "BAO_TOKEN", secretName: "vault-transit-token", secretKey: "token" }]);
        expect(values.server.ha.raft.config).toContain('seal "transit"');
    });

    test("gcpckms: the credentials file mounted from the Secret and named by GOOGLE_APPLICATION_CREDENTIALS, next to the TLS secret", () => {
        const o = { ...standalone, tlsSecretName: "vault-tls", seal: { type: "gcpckms" as const, params: { project: "p", region: "global", keyRing: "r", cryptoKey: "k" }, credentialsSecret: "vault-gcp" } };
        const values = vaultChartValues(o) as any;
        expect(values.server.extraVolumes).toEqual([{ type: "secret", name: "vault-tls" }, { type: "secret", name: "vault-gcp" }]);
        expect(values.server.extraEnvironmentVars).toEqual({ VAULT_CACERT: "/vault/userconfig/vault-tls/ca.crt", GOOGLE_APPLICATION_CREDENTIALS: "/vault/userconfig/vault-gcp/credentials.json" });
        expect(values.server.extraSecretEnvironmentVars).toBeUndefined();
    });

    test("workload identity: annotations on Vault's service account, no Secret; Shamir renders nothing", () => {
        const o = { ...standalone, seal: { type: "awskms" as const, params: { kmsKeyId: "alias/vault" }, serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r" } } };
        const values = vaultChartValues(o) as any;
        expect(values.server.serviceAccount).toEqual({ create: true, name: "vault", annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r" } });
        expect(values.server.extraSecretEnvironmentVars).toBeUndefined();
        expect(serverHcl(o)).toContain('seal "awskms" {\n  kms_key_id = "alias/vault"\n}');
        const shamir = vaultChartValues({ ...standalone, seal: { type: "shamir", params: {} } }) as any;
        expect(shamir.server.standalone.config).not.toContain("seal");
        expect(shamir.server.extraSecretEnvironmentVars).toBeUndefined();
    });
});

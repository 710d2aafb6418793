// Known-good resources, shaped like the program's own inputs. Each test changes one thing.
import { Fixture } from "./harness";

export const esoPolicyHcl = [
    'path "kv/data/apps/db" {',
    '  capabilities = ["read"]',
    "}",
    "",
    'path "kv/metadata/apps/db" {',
    '  capabilities = ["read"]',
    "}",
    "",
].join("\n");

export const tokenSecret: Fixture = {
    type: "kubernetes:core/v1:Secret",
    name: "platform-reviewer-token",
    props: {
        type: "kubernetes.io/service-account-token",
        metadata: { name: "vault-auth", namespace: "vault", annotations: { "kubernetes.io/service-account.name": "vault" } },
    },
};

export const vaultPolicy: Fixture = {
    type: "vault:index/policy:Policy",
    name: "platform-auth-external-secrets-policy",
    props: { name: "external-secrets", policy: esoPolicyHcl },
};

export const authRole: Fixture = {
    type: "vault:kubernetes/authBackendRole:AuthBackendRole",
    name: "platform-auth-external-secrets-role",
    props: {
        backend: "kubernetes",
        roleName: "external-secrets",
        boundServiceAccountNames: ["vault-secret-reader"],
        boundServiceAccountNamespaces: ["apps"],
        tokenPolicies: ["external-secrets"],
        tokenTtl: 3600,
        tokenMaxTtl: 14400,
        audience: "vault",
    },
};

export const secretStore: Fixture = {
    type: "kubernetes:external-secrets.io/v1:SecretStore",
    name: "platform-store",
    props: {
        apiVersion: "external-secrets.io/v1",
        kind: "SecretStore",
        metadata: { name: "vault", namespace: "apps" },
        spec: {
            provider: {
                vault: {
                    server: "https://vault.vault.svc:8200",
                    path: "kv",
                    version: "v2",
                    auth: { kubernetes: { mountPath: "kubernetes", role: "external-secrets", serviceAccountRef: { name: "vault-secret-reader" } } },
                },
            },
        },
    },
};

export const clusterSecretStore: Fixture = {
    type: "kubernetes:external-secrets.io/v1:ClusterSecretStore",
    name: "platform-cluster-store",
    props: {
        apiVersion: "external-secrets.io/v1",
        kind: "ClusterSecretStore",
        metadata: { name: "vault-cluster" },
        spec: { provider: { vault: { server: "https://vault.vault.svc:8200", path: "kv", version: "v2" } } },
    },
};

export const externalSecret: Fixture = {
    type: "kubernetes:external-secrets.io/v1:ExternalSecret",
    name: "registry-es",
    props: {
        apiVersion: "external-secrets.io/v1",
        kind: "ExternalSecret",
        metadata: { name: "registry", namespace: "apps", annotations: { "pulumi.com/waitFor": "condition=Ready" } },
        spec: {
            refreshInterval: "1h",
            secretStoreRef: { name: "vault", kind: "SecretStore" },
            target: {
                name: "registry",
                creationPolicy: "Owner",
                template: {
                    type: "kubernetes.io/dockerconfigjson",
                    engineVersion: "v2",
                    data: { ".dockerconfigjson": '{"auths":{"registry.gitlab.com":{"auth":"{{ printf "%s:%s" .username .password | b64enc }}"}}}' },
                },
            },
            data: [
                { secretKey: "username", remoteRef: { key: "gitlab/credentials", property: "username" } },
                { secretKey: "password", remoteRef: { key: "gitlab/credentials", property: "password" } },
            ],
        },
    },
};

/** Prod auto-unseals through a transit seal (vault-prod-auto-unseal). */
export const TRANSIT_SEAL = 'seal "transit" {\n  address = "https://transit.example.com:8200"\n  key_name = "autounseal"\n  mount_path = "transit/"\n}\n';

const vaultValues = {
    global: { tlsDisable: false },
    injector: { enabled: false },
    ui: { enabled: true, serviceType: "ClusterIP" },
    server: {
        serviceAccount: { create: true, name: "vault" },
        standalone: { enabled: false },
        ha: { enabled: true, replicas: 3, raft: { enabled: true, setNodeId: true, config: `ui = false\n${TRANSIT_SEAL}storage "raft" {\n  path = "/vault/data"\n}\n` } },
        service: { type: "ClusterIP" },
        ingress: { enabled: false },
    },
};

export const vaultChart: Fixture = {
    type: "kubernetes:helm.sh/v4:Chart",
    name: "platform-chart",
    props: {
        name: "vault",
        namespace: "vault",
        chart: "vault",
        version: "0.34.1",
        repositoryOpts: { repo: "https://helm.releases.hashicorp.com" },
        values: vaultValues,
    },
};

export const esoChart: Fixture = {
    type: "kubernetes:helm.sh/v4:Chart",
    name: "platform-eso-chart",
    props: {
        name: "external-secrets",
        namespace: "external-secrets",
        chart: "external-secrets",
        version: "2.9.0",
        repositoryOpts: { repo: "https://charts.external-secrets.io" },
        values: { installCRDs: true, serviceAccount: { create: true, name: "external-secrets" } },
    },
};

export const vaultIngress: Fixture = {
    type: "kubernetes:networking.k8s.io/v1:Ingress",
    name: "vault-ingress",
    props: {
        metadata: { name: "vault", namespace: "vault" },
        spec: {
            tls: [{ hosts: ["vault.example.com"], secretName: "vault-tls" }],
            rules: [
                {
                    host: "vault.example.com",
                    http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "vault", port: { number: 8200 } } } }] },
                },
            ],
        },
    },
};

export const vaultService: Fixture = {
    type: "kubernetes:core/v1:Service",
    name: "vault-svc",
    props: {
        metadata: { name: "vault-lb", namespace: "vault" },
        spec: { type: "ClusterIP", ports: [{ name: "http", port: 8200, targetPort: 8200 }] },
    },
};

export const audit: Fixture = {
    type: "vault:index/audit:Audit",
    name: "platform-audit",
    props: { type: "file", options: { file_path: "stdout" } },
};

/** The tenant namespace's secret guard (components/tenants/secretGuard.ts), as the program declares it. */
export const guardPolicy: Fixture = {
    type: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
    name: "platform-tenant-default-guard-policy",
    props: {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name: "tenant-secret-guard.apps" },
        spec: {
            failurePolicy: "Fail",
            matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["secrets"] }] },
            matchConditions: [{ name: "guarded-types", expression: '!has(object.type) || object.type in ["Opaque", "kubernetes.io/dockerconfigjson"]' }],
            validations: [{ expression: 'request.userInfo.username == "system:serviceaccount:external-secrets:external-secrets"', reason: "Forbidden" }],
        },
    },
};

export const guardBinding: Fixture = {
    type: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
    name: "platform-tenant-default-guard-binding",
    props: {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name: "tenant-secret-guard.apps" },
        spec: {
            policyName: "tenant-secret-guard.apps",
            validationActions: ["Deny"],
            matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } } },
        },
    },
};

/** Every known-good fixture: together they are a complete, compliant prod stack. */
export const goodStack: Fixture[] = [
    tokenSecret,
    vaultPolicy,
    authRole,
    secretStore,
    clusterSecretStore,
    externalSecret,
    vaultChart,
    esoChart,
    vaultIngress,
    vaultService,
    audit,
    guardPolicy,
    guardBinding,
];

/** The Vault server StatefulSet the chart renders in HA raft mode with TLS (trimmed to what rules read). */
export const renderedServer: Fixture = {
    type: "kubernetes:apps/v1:StatefulSet",
    name: "platform-chart:vault/vault",
    parent: "platform-chart",
    props: {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "vault", namespace: "vault", labels: { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "vault" } },
        spec: {
            replicas: 3,
            template: {
                spec: {
                    containers: [
                        {
                            name: "vault",
                            command: ["/bin/sh", "-ec"],
                            args: ["cp /vault/config/extraconfig-from-values.hcl /tmp/storageconfig.hcl;\n/usr/local/bin/docker-entrypoint.sh vault server -config=/tmp/storageconfig.hcl \n"],
                            env: [
                                { name: "VAULT_ADDR", value: "https://127.0.0.1:8200" },
                                { name: "VAULT_RAFT_NODE_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                            ],
                        },
                    ],
                },
            },
        },
    },
};

export const renderedConfig: Fixture = {
    type: "kubernetes:core/v1:ConfigMap",
    name: "platform-chart:vault/vault-config",
    parent: "platform-chart",
    props: {
        metadata: { name: "vault-config", namespace: "vault", labels: { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "vault" } },
        data: { "extraconfig-from-values.hcl": `ui = false\nlistener "tcp" {\n  address = "[::]:8200"\n  tls_cert_file = "/vault/userconfig/vault-tls/tls.crt"\n}\n${TRANSIT_SEAL}storage "raft" {\n  path = "/vault/data"\n}\n` },
    },
};

/** The known-good stack as a real preview shows it: the v4 Chart without inputs, its objects rendered. */
export const previewStack: Fixture[] = [
    ...goodStack.map((f) => (f.type === "kubernetes:helm.sh/v4:Chart" ? { ...f, props: {} } : f)),
    renderedServer,
    renderedConfig,
];

// What both local stack files declare (Pulumi.local.yaml, engine tier; Pulumi.local-cluster.yaml,
// cluster tier): namespaces, the KV mount, the app secrets, the registry secret, ESO's identity.
export const APP_NS = "demo-external-secrets";
export const ESO_NS = "external-secrets";
export const VAULT_NS = "vault";
export const KV = "kv";
export const READER_SA = "vault-secret-reader";
export const ROLE = "external-secrets";
export const DECLARED = [
    { name: "example-password", path: "path_to_secret", keys: ["password"] },
    { name: "database-credentials", path: "apps/database", keys: ["username", "password"] },
];
/** The registry pull secret; its server is the stack's registryServer. */
export const REGISTRY_SECRET = { name: "gitlab-registry-secret", path: "gitlab/credentials", username: "e2e-robot" };
export const REFRESH_SECONDS = 10;

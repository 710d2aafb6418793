// `vaultSeal`: how Vault (OpenBao) protects its root key. "shamir" (the default) needs the unseal
// keys after every restart; the auto-unseal types let a restarted pod unseal itself through a KMS
// or a transit server, and init then hands out recovery keys instead.
import { checkDnsSubdomain, checkUrl, checkVaultPath } from "./validators";

export type SealType = "shamir" | "transit" | "awskms" | "gcpckms" | "azurekeyvault";

/** A seal stanza parameter: its HCL name and how its value is checked. */
interface Param {
    hcl: string;
    kind: "string" | "boolean";
    check?: (v: string) => string | undefined;
}

interface SealTypeSpec {
    required: Record<string, Param>;
    optional: Record<string, Param>;
    /**
     * Keys of `credentialsSecret` and the environment variable each becomes in the server pod
     * (never HCL, never plain config). `file`: mounted, and the variable names its path.
     */
    credentials: Record<string, { env: string; file?: boolean }>;
    /** Workload identity (service-account annotations) can replace the credentials Secret. */
    workloadIdentity: boolean;
}

const str = (hcl: string, check?: Param["check"]): Param => ({ hcl, kind: "string", check });
const bool = (hcl: string): Param => ({ hcl, kind: "boolean" });

/** What each seal type takes (HashiCorp Vault and OpenBao name the parameters the same). */
export const SEAL_TYPES: Record<Exclude<SealType, "shamir">, SealTypeSpec> = {
    transit: {
        required: { address: str("address", (v) => checkUrl(v, ["http", "https"])), keyName: str("key_name"), mountPath: str("mount_path", (v) => checkVaultPath(v.replace(/\/$/, ""))) },
        optional: { namespace: str("namespace"), tlsServerName: str("tls_server_name"), tlsSkipVerify: bool("tls_skip_verify"), disableRenewal: bool("disable_renewal") },
        credentials: { token: { env: "VAULT_TOKEN" } },
        workloadIdentity: false,
    },
    awskms: {
        required: { kmsKeyId: str("kms_key_id") },
        optional: { region: str("region"), endpoint: str("endpoint", (v) => checkUrl(v, ["https"])) },
        credentials: { accessKeyId: { env: "AWS_ACCESS_KEY_ID" }, secretAccessKey: { env: "AWS_SECRET_ACCESS_KEY" } },
        workloadIdentity: true,
    },
    gcpckms: {
        required: { project: str("project"), region: str("region"), keyRing: str("key_ring"), cryptoKey: str("crypto_key") },
        optional: {},
        credentials: { "credentials.json": { env: "GOOGLE_APPLICATION_CREDENTIALS", file: true } },
        workloadIdentity: true,
    },
    azurekeyvault: {
        required: { tenantId: str("tenant_id"), vaultName: str("vault_name"), keyName: str("key_name") },
        optional: { environment: str("environment"), resource: str("resource") },
        credentials: { clientId: { env: "AZURE_CLIENT_ID" }, clientSecret: { env: "AZURE_CLIENT_SECRET" } },
        workloadIdentity: true,
    },
};

export interface SealSpec {
    type: SealType;
    /** Stanza parameters, by their config (camelCase) names. */
    params: Record<string, string | boolean>;
    /** Kubernetes Secret in Vault's namespace holding the credentials (keys as in SEAL_TYPES). */
    credentialsSecret?: string;
    /** Annotations for Vault's service account (workload identity: IRSA, GKE, Azure). */
    serviceAccountAnnotations?: Record<string, string>;
}

export const SHAMIR: SealSpec = { type: "shamir", params: {} };

const COMMON = ["type", "credentialsSecret", "serviceAccountAnnotations"];

/**
 * Parses `vaultSeal` (an object, or a bare type name). Every problem is reported through `problem`
 * with its path (`vaultSeal.keyName`), unknown fields with the closest known one.
 */
export function parseSeal(
    raw: unknown,
    problem: (key: string, reason: string) => void,
    closest: (k: string, known: string[]) => string | undefined,
    mode: "chart" | "external" = "chart",
): SealSpec {
    const key = "vaultSeal";
    if (raw === undefined) return SHAMIR;
    const obj: Record<string, unknown> = typeof raw === "string" ? { type: raw } : (raw as Record<string, unknown>);
    if (!obj || typeof obj !== "object" || Array.isArray(obj)) {
        problem(key, `must be an object {type, ...}: e.g. {type: transit, address: https://transit.example.com:8200, keyName: autounseal, mountPath: transit/, credentialsSecret: vault-transit-token}`);
        return SHAMIR;
    }
    const types = ["shamir", ...Object.keys(SEAL_TYPES)];
    const type = obj.type;
    if (typeof type !== "string" || !types.includes(type)) {
        problem(`${key}.type`, `${JSON.stringify(type)} is not a seal type: use one of ${types.map((t) => `"${t}"`).join(", ")}`);
        return SHAMIR;
    }
    if (type === "shamir") {
        for (const k of Object.keys(obj).filter((k) => k !== "type")) problem(`${key}.${k}`, "shamir takes no parameters; remove it");
        return SHAMIR;
    }
    const spec = SEAL_TYPES[type as Exclude<SealType, "shamir">];
    if (mode === "external") {
        // The server's own configuration has the seal stanza and its credentials; the program only
        // needs to know that init hands out recovery keys (and a Shamir server migrates).
        for (const k of Object.keys(obj).filter((k) => k !== "type")) {
            problem(`${key}.${k}`, `external mode: the seal is configured on the server itself (README "Day 2"); give only {type: ${type}}`);
        }
        return { type: type as SealType, params: {} };
    }
    const known = [...COMMON, ...Object.keys(spec.required), ...Object.keys(spec.optional)];
    for (const k of Object.keys(obj)) {
        if (known.includes(k)) continue;
        const hint = closest(k, known);
        const secretish = /token|secret|password|key$|credential/i.test(k) && !hint;
        problem(`${key}.${k}`, `not a ${type} parameter${hint ? `: did you mean ${hint}?` : ""}${secretish ? " Credentials never go into config: put them in the Secret named by credentialsSecret" : ""} (known: ${known.join(", ")})`);
    }
    const params: Record<string, string | boolean> = {};
    for (const [name, p] of [...Object.entries(spec.required), ...Object.entries(spec.optional)]) {
        const v = obj[name];
        if (v === undefined) {
            if (name in spec.required) problem(`${key}.${name}`, `required for a ${type} seal`);
            continue;
        }
        if (p.kind === "boolean") {
            if (typeof v === "boolean" || v === "true" || v === "false") params[name] = v === true || v === "true";
            else problem(`${key}.${name}`, `${JSON.stringify(v)} must be true or false`);
            continue;
        }
        if (typeof v !== "string" || v === "") {
            problem(`${key}.${name}`, `${JSON.stringify(v)} must be a non-empty string`);
            continue;
        }
        const reason = p.check?.(v);
        if (reason) problem(`${key}.${name}`, reason);
        params[name] = v;
    }
    let credentialsSecret: string | undefined;
    if (obj.credentialsSecret !== undefined) {
        const reason = typeof obj.credentialsSecret === "string" ? checkDnsSubdomain(obj.credentialsSecret) : "must be the name of a Kubernetes Secret";
        if (reason) problem(`${key}.credentialsSecret`, reason);
        else credentialsSecret = obj.credentialsSecret as string;
    }
    let serviceAccountAnnotations: Record<string, string> | undefined;
    if (obj.serviceAccountAnnotations !== undefined) {
        const a = obj.serviceAccountAnnotations;
        if (!a || typeof a !== "object" || Array.isArray(a) || Object.values(a).some((x) => typeof x !== "string")) {
            problem(`${key}.serviceAccountAnnotations`, "must be a map of annotation names to strings, e.g. {eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/vault-kms}");
        } else if (!spec.workloadIdentity) {
            problem(`${key}.serviceAccountAnnotations`, `a ${type} seal authenticates with a token from credentialsSecret, not workload identity`);
        } else serviceAccountAnnotations = a as Record<string, string>;
    }
    const credentialKeys = Object.keys(spec.credentials).join(", ");
    if (obj.credentialsSecret === undefined && obj.serviceAccountAnnotations === undefined) {
        problem(
            `${key}.credentialsSecret`,
            spec.workloadIdentity
                ? `a ${type} seal needs credentials: a Secret in Vault's namespace with ${credentialKeys} (credentialsSecret), or workload identity (serviceAccountAnnotations)`
                : `a ${type} seal needs a Secret in Vault's namespace holding its ${credentialKeys} (credentialsSecret); the token never goes into config or HCL`,
        );
    }
    return { type: type as SealType, params, credentialsSecret, serviceAccountAnnotations };
}

/** True when pods unseal themselves (init returns recovery keys). */
export const isAutoUnseal = (s: SealSpec): boolean => s.type !== "shamir";

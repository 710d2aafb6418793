// Resolved provider inputs/outputs and their validation (pure, serialized into the provider).

/** An in-cluster Vault, reached pod by pod through the Kubernetes API. */
export interface KubernetesTarget {
    namespace: string;
    /** Every pod to unseal; the first is the raft leader. */
    podNames: string[];
    /** Vault's port in the pod. @default - 8200 */
    port?: number;
    /** kubeconfig content. @default - `KubeConfig.loadFromDefault()` */
    kubeconfig?: string;
    context?: string;
    scheme?: "http" | "https";
}

export interface Inputs {
    address?: string;
    kubernetes?: KubernetesTarget;
    caCert?: string;
    tlsServerName?: string;
    secretShares: number;
    secretThreshold: number;
    pgpKeys?: string[];
    rootTokenPgpKey?: string;
    adoptUnsealKeys?: string[];
    adoptRootToken?: string;
    raftLeaderApiAddr?: string;
    /**
     * HCL of the paths the admin token manages (the `pulumi-admin` policy); token self lookup/renew
     * is always added. @default - none: the admin token can only look itself up and renew itself
     */
    adminPolicy?: string;
    /** Period of the admin token: each run renews it; unused this long, it expires. @default - "768h" */
    adminTokenPeriod: string;
    timeoutSeconds: number;
    providerVersion: number;
    /**
     * The admin token's value, set by check() and never by the program: the held token while it
     * lives, a fresh value when it must be replaced. A preview shows the inputs of an update as its
     * outputs, so the Vault provider's token is known there and nothing else previews a change.
     * Absent in states written before it existed.
     */
    adminToken?: string;
    /** The server's version as check() found it (the Vault provider's version override); same reason. */
    vaultVersion?: string;
}

export interface Outputs {
    /**
     * Empty once the admin identity exists (the root token is revoked). Holds the root token only
     * while it cannot be used yet: PGP-encrypted (rootTokenPgpKey) or an init that failed midway.
     */
    rootToken: string;
    /** Orphan periodic token with only the `pulumi-admin` policy; what the Vault provider uses (secret). */
    adminToken: string;
    adminTokenAccessor: string;
    /** The managed part of the policy it carries (input echo, for diff). */
    adminPolicy: string;
    adminTokenPeriod: string;
    unsealKeys: string[];
    sealType: string;
    secretShares: number;
    secretThreshold: number;
    vaultVersion: string;
    address: string;
    /** Keys/token are PGP-encrypted (pgpKeys / rootTokenPgpKey): we cannot use them ourselves. */
    keysEncrypted: boolean;
    rootTokenEncrypted: boolean;
    /** Echo of the inputs diff() compares (the engine hands diff the old outputs, not the old inputs). */
    target: string;
    caCert?: string;
    tlsServerName?: string;
    raftLeaderApiAddr?: string;
    timeoutSeconds: number;
    providerVersion: number;
    /** sha256 of the adopt inputs, so changing them triggers an update without storing them twice. */
    adoptFingerprint: string;
    /** Targets found sealed by the last read (refresh). */
    sealedTargets: string[];
}

/** Pulumi's marker for a value not known during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function hasUnknown(v: unknown): boolean {
    if (v === UNKNOWN) {
        return true;
    }
    if (Array.isArray(v)) {
        return v.some(hasUnknown);
    }
    if (v && typeof v === "object") {
        return Object.values(v).some(hasUnknown);
    }
    return false;
}

export interface Failure {
    property: string;
    reason: string;
}

/** Validates inputs before any request; unknown values (preview) are skipped. */
export function validate(i: Inputs): Failure[] {
    const f: Failure[] = [];
    const known = (v: unknown) => v !== undefined && !hasUnknown(v);
    const isInt = (v: unknown) => typeof v === "number" && Number.isInteger(v);
    if (!hasUnknown(i.address) && !hasUnknown(i.kubernetes) && !i.address === !i.kubernetes) {
        f.push({ property: "address", reason: "set exactly one of address / kubernetes" });
    }
    if (known(i.address) && !/^https?:\/\/[^/]+/.test(i.address as string)) {
        f.push({ property: "address", reason: `address must be an http(s) URL, got "${i.address}"` });
    }
    const k = i.kubernetes;
    if (k && !hasUnknown(k)) {
        if (!k.namespace) {
            f.push({ property: "kubernetes", reason: "kubernetes.namespace is required" });
        }
        if (!Array.isArray(k.podNames) || k.podNames.length === 0 || k.podNames.some((p) => !p)) {
            f.push({ property: "kubernetes", reason: "kubernetes.podNames must list at least one pod" });
        }
        if (k.port !== undefined && (!isInt(k.port) || k.port < 1 || k.port > 65535)) {
            f.push({ property: "kubernetes", reason: "kubernetes.port must be 1..65535" });
        }
        if (k.scheme !== undefined && k.scheme !== "http" && k.scheme !== "https") {
            f.push({ property: "kubernetes", reason: 'kubernetes.scheme must be "http" or "https"' });
        }
    }
    const n = i.secretShares;
    const t = i.secretThreshold;
    if (known(n) && (!isInt(n) || n < 1 || n > 255)) {
        f.push({ property: "secretShares", reason: "secretShares must be an integer 1..255" });
    }
    if (known(t) && (!isInt(t) || t < 1)) {
        f.push({ property: "secretThreshold", reason: "secretThreshold must be an integer >= 1" });
    }
    if (isInt(n) && isInt(t)) {
        if (t > n) {
            f.push({ property: "secretThreshold", reason: `secretThreshold (${t}) must not exceed secretShares (${n})` });
        } else if (n > 1 && t < 2) {
            f.push({ property: "secretThreshold", reason: "secretThreshold must be at least 2 when secretShares > 1" });
        }
    }
    if (known(i.pgpKeys) && isInt(n) && (i.pgpKeys as string[]).length !== n) {
        f.push({ property: "pgpKeys", reason: `pgpKeys must hold exactly secretShares (${n}) keys` });
    }
    if (known(i.adoptUnsealKeys) && (!Array.isArray(i.adoptUnsealKeys) || i.adoptUnsealKeys.some((x) => typeof x !== "string" || !x))) {
        f.push({ property: "adoptUnsealKeys", reason: "adoptUnsealKeys must be a list of non-empty strings" });
    }
    if (known(i.adminTokenPeriod) && !/^[1-9]\d*[smh]?$/.test(String(i.adminTokenPeriod))) {
        f.push({ property: "adminTokenPeriod", reason: `adminTokenPeriod must be a duration such as "768h", got "${i.adminTokenPeriod}"` });
    }
    if (known(i.adminPolicy) && typeof i.adminPolicy !== "string") {
        f.push({ property: "adminPolicy", reason: "adminPolicy must be policy HCL (a string)" });
    }
    if (known(i.timeoutSeconds) && !(typeof i.timeoutSeconds === "number" && i.timeoutSeconds > 0)) {
        f.push({ property: "timeoutSeconds", reason: "timeoutSeconds must be > 0" });
    }
    return f;
}

/** Fills defaults the way the resource constructor does (the provider may get raw inputs from old states). */
export function withDefaults(raw: Record<string, unknown>): Inputs {
    const i = { ...raw } as unknown as Inputs;
    i.secretShares = (raw.secretShares as number | undefined) ?? 5;
    i.secretThreshold = (raw.secretThreshold as number | undefined) ?? 3;
    i.timeoutSeconds = (raw.timeoutSeconds as number | undefined) ?? 300;
    i.adminTokenPeriod = (raw.adminTokenPeriod as string | undefined) ?? "768h";
    // check() hands it back as a secret; the engine strips the marker (the provider accepts no
    // secrets), a direct caller may not.
    const tok = raw.adminToken as unknown;
    i.adminToken = tok && typeof tok === "object" && "value" in (tok as object) ? String((tok as { value: unknown }).value) : (tok as string | undefined) || undefined;
    return i;
}

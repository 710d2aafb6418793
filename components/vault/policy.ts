/**
 * Vault policy HCL rendered from what the program declares. ESO gets `read` on exactly the KV v2
 * entries its ExternalSecrets reference: `<mount>/data/<path>` for values and
 * `<mount>/metadata/<path>` for versions/metadata, nothing else (the guide granted read on "*").
 */
export interface KvReadGrant {
    /** KV v2 mount path, e.g. "kv". */
    mount: string;
    /** Entry path below the mount, e.g. "gitlab/credentials". */
    path: string;
}

export function renderKvReadPolicy(grants: KvReadGrant[]): string {
    const paths = new Set<string>();
    for (const g of grants) {
        if (/[*+]/.test(g.mount + g.path)) throw new Error(`refusing to render a wildcard path: ${g.mount}/${g.path}`);
        paths.add(`${g.mount}/data/${g.path}`);
        paths.add(`${g.mount}/metadata/${g.path}`);
    }
    if (paths.size === 0) throw new Error("no KV paths declared: an empty read policy would be useless");
    return [...paths]
        .sort()
        .map((p) => `path "${p}" {\n  capabilities = ["read"]\n}\n`)
        .join("\n");
}

/** What the program manages in Vault, for the `pulumi-admin` policy of the admin token. */
export interface AdminScope {
    /** Auth mounts the program enables and configures (their config and roles). */
    authMounts: string[];
    /**
     * KV v2 mounts and the entries the program seeds: write access to exactly those paths, and to
     * everything below each of `seedPrefixes` (a tenant's kvPrefix, so that a tenant's new seeded
     * secret needs no change of this policy). @default seedPrefixes - none
     */
    kvMounts: { path: string; seedPaths: string[]; seedPrefixes?: string[] }[];
    /**
     * "api": the program enables a file audit device through the API (HashiCorp Vault);
     * "read": it only checks that one is enabled (OpenBao); "none": audit off.
     */
    audit: "api" | "read" | "none";
    /**
     * Hub: the admin token mints each spoke's scoped token through a token role `pulumi-spoke-<name>`
     * (a role lets it hand out the spoke's scope policy, which it does not carry itself), and looks
     * up and revokes those tokens by accessor. @default - false
     */
    spokeTokens?: boolean;
}

const caps = (...c: string[]) => `[${c.map((x) => `"${x}"`).join(", ")}]`;
const block = (p: string, c: string) => `path "${p}" {\n  capabilities = ${c}\n}\n`;

/** What managing one Kubernetes auth mount takes: the mount (enable, tune), its config and roles. */
function authMountBlocks(m: string): string {
    const crud = caps("create", "read", "update", "delete");
    return (
        block("sys/auth", caps("read")) +
        block(`sys/auth/${m}`, caps("create", "read", "update", "delete", "sudo")) +
        block(`sys/auth/${m}/tune`, caps("read", "update", "sudo")) +
        // The Vault provider reads (and tunes) auth mounts through sys/mounts/auth/<path>.
        block(`sys/mounts/auth/${m}`, caps("read", "update", "sudo")) +
        block(`sys/mounts/auth/${m}/tune`, caps("read", "update", "sudo")) +
        block(`auth/${m}/config`, crud) +
        block(`auth/${m}/role`, caps("list")) +
        block(`auth/${m}/role/*`, crud)
    );
}

/**
 * The managed part of the `pulumi-admin` policy: exactly the paths the program's Vault resources
 * call, on plan (reads) and on up (writes). The init/unseal provider adds token self lookup/renew
 * and a deny on the policy itself. ACL policies are granted by name pattern (the roles' policies
 * are stack config), `pulumi-admin` excepted.
 */
export function renderAdminPolicy(scope: AdminScope): string {
    const out: string[] = [];
    const crud = caps("create", "read", "update", "delete");
    for (const m of scope.authMounts) {
        if (/[*+]/.test(m)) throw new Error(`refusing a wildcard auth mount: ${m}`);
        out.push(`# Auth mount "${m}": the mount, its config and roles.\n` + authMountBlocks(m));
    }
    out.push("# ACL policies of the roles (pulumi-admin itself is denied).\n" + block("sys/policies/acl", caps("list")) + block("sys/policies/acl/*", crud));
    for (const kv of scope.kvMounts) {
        const prefixes = [...new Set(kv.seedPrefixes ?? [])].sort();
        if (/[*+]/.test(kv.path + kv.seedPaths.join("") + prefixes.join(""))) throw new Error(`refusing a wildcard KV path: ${kv.path}`);
        if (prefixes.some((p) => p === "" || p.startsWith("/"))) throw new Error(`refusing an empty or absolute KV prefix in ${kv.path}`);
        out.push(
            `# KV v2 mount "${kv.path}" and the entries the program seeds (nothing else in it).\n` +
                block("sys/mounts", caps("read")) +
                block(`sys/mounts/${kv.path}`, crud) +
                block(`sys/mounts/${kv.path}/tune`, caps("read", "update")) +
                [...new Set(kv.seedPaths)]
                    .sort()
                    .map((p) => block(`${kv.path}/data/${p}`, crud) + block(`${kv.path}/metadata/${p}`, crud))
                    .join("") +
                prefixes.map((p) => block(`${kv.path}/data/${p.replace(/\/$/, "")}/*`, crud) + block(`${kv.path}/metadata/${p.replace(/\/$/, "")}/*`, crud)).join(""),
        );
    }
    if (scope.spokeTokens) {
        out.push(
            "# Spokes: their auth mounts spokes/<name> (each spoke configures its own), their tokens minted\n# through the token roles pulumi-spoke-*, looked up and revoked by accessor.\n" +
                block("sys/auth", caps("read")) +
                block("sys/auth/spokes/+", caps("create", "read", "update", "delete", "sudo")) +
                block("sys/auth/spokes/+/tune", caps("read", "update", "sudo")) +
                block("sys/mounts/auth/spokes/+", caps("read", "update", "sudo")) +
                block("sys/mounts/auth/spokes/+/tune", caps("read", "update", "sudo")) +
                block(`auth/token/roles/${SPOKE_PREFIX}*`, crud) +
                block(`auth/token/create/${SPOKE_PREFIX}*`, caps("create", "update")) +
                block("auth/token/lookup-accessor", caps("update")) +
                block("auth/token/revoke-accessor", caps("update")),
        );
    }
    if (scope.audit !== "none") {
        out.push(
            `# Audit devices: ${scope.audit === "api" ? "the file device the program enables" : "checked only (declared in the server configuration)"}.\n` +
                block("sys/audit", caps("read", "sudo")) +
                (scope.audit === "api" ? block("sys/audit/file", caps("create", "read", "update", "delete", "sudo")) : ""),
        );
    }
    // Duplicate blocks (several mounts) are harmless in HCL but noisy: keep the first of each.
    const seen = new Set<string>();
    return out
        .join("\n")
        .split(/(?=path ")|(?=# )/)
        .filter((chunk) => !chunk.startsWith("path ") || (!seen.has(chunk.trim()) && seen.add(chunk.trim())))
        .join("");
}

/** Names of the hub's per-spoke scope policy and token role: `pulumi-spoke-<name>`. */
export const SPOKE_PREFIX = "pulumi-spoke-";

/** A spoke's Kubernetes auth mount on the hub: the hub enables it, the spoke configures it. */
export const spokeMountPath = (name: string) => `spokes/${name}`;
/** The mount spokes enabled themselves before the hub owned it: the spoke may only remove it. */
export const legacySpokeMountPath = (name: string) => `kubernetes-${name}`;
/** The one policy every role on a spoke's mount hands out (hub-owned, templated by namespace). */
export const spokeReaderPolicyName = (name: string) => `${SPOKE_PREFIX}${name}-reader`;

/** What a spoke's token may manage on the hub's Vault (README "One Vault, many clusters"). */
export interface SpokeScope {
    name: string;
    /** The hub's KV v2 mount. */
    kvMount: string;
    /** The spoke's entries lie below this prefix. */
    kvPrefix: string;
}

/**
 * The scope policy of a spoke's token. It may configure its mount `spokes/<name>` (TokenReview
 * against its own cluster) and write roles there, each handing out exactly the hub's reader policy
 * (`allowed_parameters`: Vault checks neither a policy's text nor a role's policies against the
 * writer's own grants, so a spoke that could name any policy could grant itself the hub); it may
 * write KV below its prefix, and look itself up and renew. It writes no policy and enables no mount.
 * What spokes made themselves before (the mount `kubernetes-<name>`, its roles, `<name>-*`
 * policies) it may read and remove, so that its next `up` can clean them up.
 */
export function renderSpokePolicy(s: SpokeScope): string {
    if (/[*+{}"]/.test(s.name + s.kvMount + s.kvPrefix)) throw new Error(`refusing a wildcard in spoke ${s.name}`);
    const crud = caps("create", "read", "update", "delete");
    const m = spokeMountPath(s.name);
    const legacy = legacySpokeMountPath(s.name);
    const prefix = s.kvPrefix.replace(/\/$/, "");
    const reader = spokeReaderPolicyName(s.name);
    const readDelete = caps("read", "delete");
    return (
        `# Spoke "${s.name}": minted by the hub; configures its mount, writes roles that hand out only ${reader}, and its KV.\n` +
        block("auth/token/lookup-self", caps("read")) +
        block("auth/token/renew-self", caps("update")) +
        block(`auth/${m}/config`, crud) +
        block(`auth/${m}/role`, caps("list")) +
        `path "auth/${m}/role/*" {\n  capabilities = ${crud}\n` +
        `  allowed_parameters = {\n    "token_policies" = [["${reader}"], "${reader}"]\n    "*" = []\n  }\n` +
        `  denied_parameters = {\n    "policies" = []\n    "alias_metadata" = []\n  }\n}\n` +
        block(`${s.kvMount}/data/${prefix}/*`, crud) +
        block(`${s.kvMount}/metadata/${prefix}/*`, crud) +
        `# Before the hub owned the mount: what the spoke made itself, to be removed by its next up.\n` +
        block(`sys/auth/${legacy}`, caps("read", "delete", "sudo")) +
        block(`sys/mounts/auth/${legacy}`, caps("read")) +
        block(`auth/${legacy}/config`, readDelete) +
        block(`auth/${legacy}/role/*`, readDelete) +
        block(`sys/policies/acl/${s.name}-*`, readDelete)
    );
}

/**
 * The hub-owned policy of every role on spoke `<name>`'s mount: read on the KV entries below
 * `<prefix>/<the service account's namespace>/`, the namespace taken from the login's entity alias
 * on that mount (`accessor`). One policy per spoke isolates its tenants (namespaces) from each other.
 */
export function renderSpokeReaderPolicy(s: SpokeScope, accessor: string): string {
    if (/[*+{}"]/.test(s.name + s.kvMount + s.kvPrefix + accessor)) throw new Error(`refusing a wildcard in spoke ${s.name}`);
    if (!/^auth_kubernetes_[0-9a-f]+$/.test(accessor)) throw new Error(`"${accessor}" is not a Kubernetes auth mount's accessor`);
    const prefix = s.kvPrefix.replace(/\/$/, "");
    const ns = `{{identity.entity.aliases.${accessor}.metadata.service_account_namespace}}`;
    return (
        `# Spoke "${s.name}": a reader reads below ${prefix}/<its namespace>/ only.\n` +
        block(`${s.kvMount}/data/${prefix}/${ns}/*`, caps("read")) +
        block(`${s.kvMount}/metadata/${prefix}/${ns}/*`, caps("read"))
    );
}

// Rules 2 and 3: Vault policies are least privilege; Kubernetes auth roles are tightly bound.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { formatSeconds } from "../lib/duration";
import { PathRule, PolicyParseError, parseVaultPolicy } from "../lib/hcl";
import { UNKNOWN, config, get, list, message, num, show, str } from "../lib/props";

export const POLICY_TYPE = "vault:index/policy:Policy";
export const ROLE_TYPE = "vault:kubernetes/authBackendRole:AuthBackendRole";

export interface LeastPrivilegeConfig {
    broadCapabilities: string[];
    esoPolicyPattern: string;
    esoAllowedCapabilities: string[];
}

export const leastPrivilegeDefaults: LeastPrivilegeConfig = {
    // Writing, deleting or sudo under a glob reaches paths nobody reviewed. `read`/`list` under a
    // glob stay allowed: ESO's dataFrom.find needs `list`, and they change nothing.
    broadCapabilities: ["create", "update", "patch", "delete", "sudo"],
    esoPolicyPattern: "external-secrets",
    // ESO only reads secrets (PushSecret is not used here); `deny` narrows, so it is harmless.
    esoAllowedCapabilities: ["read", "list", "deny"],
};

function where(rule: PathRule): string {
    return rule.line > 0 ? ` (line ${rule.line})` : "";
}

/**
 * A hub's scope policy for spoke `<n>` (`pulumi-spoke-<n>`) manages a whole area by design: the roles
 * of its mount `auth/spokes/<n>` (each pinned to the hub's reader policy), a KV prefix, and, to remove
 * what spokes made themselves before the hub owned their mounts, the roles of `auth/kubernetes-<n>`
 * and policies `<n>-*`. Exactly those globs may write.
 */
function spokeScopeGlob(policyName: string, path: string): boolean {
    const n = /^pulumi-spoke-([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec(policyName)?.[1];
    if (!n) return false;
    return [`auth/spokes/${n}/role/*`, `sys/policies/acl/${n}-*`, `auth/kubernetes-${n}/role/*`].includes(path) || /^[^*+/]+\/(data|metadata)\/[^*+]+\/\*$/.test(path);
}

/**
 * A spoke's roles glob may write only roles that hand out exactly the hub's reader policy: Vault does
 * not check a role's policies against the writer's grants, so an unpinned glob lets the spoke hand
 * out any policy (`pulumi-admin` included) to a login of its own.
 */
function unpinnedSpokeRoles(policyName: string, rule: PathRule): string | undefined {
    const n = /^pulumi-spoke-([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec(policyName)?.[1];
    if (!n || rule.path !== `auth/spokes/${n}/role/*` || !rule.capabilities.some((c) => c === "create" || c === "update")) return undefined;
    const reader = `pulumi-spoke-${n}-reader`;
    const allowed = rule.allowedParameters?.["token_policies"];
    const pinned = JSON.stringify(allowed) === JSON.stringify([[reader], reader]);
    const legacyDenied = rule.deniedParameters !== undefined && "policies" in rule.deniedParameters;
    if (pinned && legacyDenied) return undefined;
    return `path "${rule.path}"${where(rule)} lets the spoke write roles that hand out ${pinned ? "policies through the legacy `policies` parameter" : "any policy"}, ${reader} or not`;
}

function checkPath(rule: PathRule, isEso: boolean, cfg: LeastPrivilegeConfig, policyName = ""): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const unpinned = unpinnedSpokeRoles(policyName, rule);
    if (unpinned) {
        out.push([unpinned, `pin it: allowed_parameters = { "token_policies" = [["pulumi-spoke-<n>-reader"], "pulumi-spoke-<n>-reader"], "*" = [] } and denied_parameters = { "policies" = [] } (renderSpokePolicy)`]);
    }
    const caps = JSON.stringify(rule.capabilities);
    const firstSegment = rule.path.replace(/^\//, "").split("/")[0];
    if (rule.path === "*" || rule.path === "/*") {
        out.push([`grants ${caps} on the bare path "*"${where(rule)}, i.e. on everything in Vault`, 'replace path "*" with the exact paths the client needs']);
    } else if (/[*+]/.test(firstSegment)) {
        out.push([
            `path "${rule.path}"${where(rule)} starts with a wildcard, so it spans every secrets engine and auth mount`,
            "name the mount explicitly (e.g. \"kv/data/<app>/...\")",
        ]);
    } else if (isEso && /[*+]/.test(rule.path)) {
        out.push([
            `the external-secrets policy uses the glob path "${rule.path}"${where(rule)}: every store logging in with it can read every secret below it`,
            "grant read on the exact kv/data/<path> and kv/metadata/<path> entries the ExternalSecrets reference (the program generates them from appSecrets)",
        ]);
    }
    const broad = rule.capabilities.filter((c) => cfg.broadCapabilities.includes(c));
    if (/[*+]/.test(rule.path) && broad.length > 0 && !spokeScopeGlob(policyName, rule.path)) {
        out.push([
            `glob path "${rule.path}"${where(rule)} grants ${JSON.stringify(broad)}`,
            `list the exact paths that need ${broad.join("/")}, or reduce the glob to ["read"]`,
        ]);
    }
    if (isEso) {
        const extra = rule.capabilities.filter((c) => !cfg.esoAllowedCapabilities.includes(c));
        if (extra.length > 0) {
            out.push([
                `the external-secrets policy grants ${JSON.stringify(extra)} on "${rule.path}"${where(rule)}`,
                `limit it to ${JSON.stringify(cfg.esoAllowedCapabilities)}; ESO only reads secrets`,
            ]);
        }
    }
    return out;
}

export const vaultPolicyLeastPrivilege: ResourceValidationPolicy = {
    name: "vault-policy-least-privilege",
    description:
        'Vault policies name exact paths: no bare path "*", no wildcard mounts, no write/delete/sudo on globs ' +
        "(a hub's spoke scope policy pulumi-spoke-<n> only on its own auth/spokes/<n> roles, pinned to its reader policy, its old auth/kubernetes-<n> roles and <n>-* policies, and KV prefix), " +
        "and the external-secrets policy is read-only on exact paths (no globs).",
    configSchema: {
        properties: {
            broadCapabilities: {
                type: "array",
                items: { type: "string" },
                default: leastPrivilegeDefaults.broadCapabilities,
                description: "Capabilities not allowed on paths containing * or +.",
            },
            esoPolicyPattern: {
                type: "string",
                default: leastPrivilegeDefaults.esoPolicyPattern,
                description: "Regex over the policy name (or resource name) that identifies ESO's policy.",
            },
            esoAllowedCapabilities: {
                type: "array",
                items: { type: "string" },
                default: leastPrivilegeDefaults.esoAllowedCapabilities,
                description: "The only capabilities ESO's policy may grant.",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== POLICY_TYPE) {
            return;
        }
        const cfg = config(leastPrivilegeDefaults, args.getConfig());
        const policyName = str(get(args.props, "name")) ?? args.name;
        const hcl = get(args.props, "policy");
        if (hcl === UNKNOWN) {
            // Rendered from outputs; it is checked on `pulumi up` when the value is known.
            return;
        }
        if (typeof hcl !== "string") {
            reportViolation(message(args.type, args.name, `has no policy document (policy = ${show(hcl)})`, "set `policy` to the HCL path rules"));
            return;
        }
        let rules: PathRule[];
        try {
            rules = parseVaultPolicy(hcl);
        } catch (e) {
            if (!(e instanceof PolicyParseError)) {
                throw e;
            }
            reportViolation(message(args.type, args.name, `policy "${policyName}" cannot be parsed: ${e.message}`, "write valid Vault policy HCL"));
            return;
        }
        // The Vault-side name decides; the resource name only stands in when `name` is unset.
        const isEso = new RegExp(cfg.esoPolicyPattern).test(policyName);
        for (const rule of rules) {
            for (const [problem, fix] of checkPath(rule, isEso, cfg, policyName)) {
                reportViolation(message(args.type, args.name, `policy "${policyName}": ${problem}`, fix));
            }
        }
    },
};

export interface AuthRoleConfig {
    maxTokenTtlSeconds: number;
}

export const authRoleDefaults: AuthRoleConfig = { maxTokenTtlSeconds: 86400 };

function badNames(values: unknown[] | undefined): string | undefined {
    if (values === undefined || values.length === 0) {
        return "is empty (Vault then refuses or, with a selector, matches broadly)";
    }
    const wild = values.filter((v) => typeof v === "string" && (v.includes("*") || v.trim() === ""));
    return wild.length > 0 ? `contains ${JSON.stringify(wild)}` : undefined;
}

export const kubernetesAuthRoleBound: ResourceValidationPolicy = {
    name: "vault-kubernetes-role-bound",
    description:
        "Kubernetes auth roles bind exact service-account names and namespaces and issue tokens with a bounded TTL " +
        "and without the root policy.",
    configSchema: {
        properties: {
            maxTokenTtlSeconds: {
                type: "integer",
                minimum: 1,
                default: authRoleDefaults.maxTokenTtlSeconds,
                description: "Upper bound for tokenTtl and tokenMaxTtl, in seconds.",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== ROLE_TYPE) {
            return;
        }
        const cfg = config(authRoleDefaults, args.getConfig());
        const max = cfg.maxTokenTtlSeconds;
        const role = str(get(args.props, "roleName")) ?? args.name;
        const report = (problem: string, fix: string) => reportViolation(message(args.type, args.name, `role "${role}": ${problem}`, fix));

        for (const [field, what] of [
            ["boundServiceAccountNames", "service-account names"],
            ["boundServiceAccountNamespaces", "namespaces"],
        ] as const) {
            const raw = get(args.props, field);
            if (raw === UNKNOWN) {
                continue;
            }
            const problem = badNames(list(raw));
            if (problem) {
                report(`${field} ${problem}`, `list the exact ${what} allowed to log in`);
            }
        }
        if (get(args.props, "boundServiceAccountNamespaceSelector") !== undefined) {
            report(
                `boundServiceAccountNamespaceSelector is set (${show(get(args.props, "boundServiceAccountNamespaceSelector"))})`,
                "bind explicit boundServiceAccountNamespaces instead of a label selector",
            );
        }

        const ttlChecks: Array<[string, string]> = [
            ["tokenTtl", "Vault's default TTL (768h) applies"],
            ["tokenMaxTtl", "renewals can extend the token to Vault's system max (768h)"],
        ];
        const values: Record<string, number | undefined> = {};
        for (const [field, unsetMeans] of ttlChecks) {
            const raw = get(args.props, field);
            if (raw === UNKNOWN) {
                continue;
            }
            const value = num(raw);
            values[field] = value;
            if (value === undefined || value <= 0) {
                report(`${field} is ${show(raw)}, so ${unsetMeans}`, `set ${field} to at most ${max} (${formatSeconds(max)})`);
            } else if (value > max) {
                report(`${field} is ${value}s (${formatSeconds(value)}), above the ${max}s limit`, `set ${field} to at most ${max} (${formatSeconds(max)})`);
            }
        }
        const { tokenTtl, tokenMaxTtl } = values;
        if (tokenTtl && tokenMaxTtl && tokenTtl > 0 && tokenTtl > tokenMaxTtl) {
            report(`tokenTtl ${tokenTtl} is above tokenMaxTtl ${tokenMaxTtl}`, "make tokenTtl less than or equal to tokenMaxTtl");
        }
        const policies = list(get(args.props, "tokenPolicies")) ?? [];
        if (policies.includes("root")) {
            report('tokenPolicies includes "root", so every login gets unrestricted access', "grant a least-privilege policy instead of root");
        }
        const period = num(get(args.props, "tokenPeriod"));
        if (period !== undefined && period > 0) {
            report(
                `tokenPeriod is ${period}, so tokens renew forever regardless of tokenMaxTtl`,
                "remove tokenPeriod (ESO logs in again when its token expires)",
            );
        }
    },
};

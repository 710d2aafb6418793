// Rule 13: tenant isolation. Kubernetes auth roles bound to different namespaces are different
// tenants; no Vault policy reachable by one may grant a path reachable by another, or each
// tenant's SecretStore could read the other's secrets.
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { environmentDefaults, environmentOf, environmentSchema, stackFromUrn } from "../lib/env";
import { PathRule, PolicyParseError, parseVaultPolicy } from "../lib/hcl";
import { get, list, str } from "../lib/props";

const ROLE_TYPE = "vault:kubernetes/authBackendRole:AuthBackendRole";
const POLICY_TYPE = "vault:index/policy:Policy";

interface Tenant {
    role: string;
    namespaces: string[];
    /** policy name -> its path rules */
    grants: Map<string, PathRule[]>;
}

const strings = (v: unknown): string[] | undefined => {
    const l = list(v);
    return l && l.every((x) => typeof x === "string") ? (l as string[]) : undefined;
};

/** Does a rule's path (with Vault's `*` suffix and `+` segment globs) cover the same entries as another's? */
export function pathsOverlap(a: string, b: string): boolean {
    const re = (p: string) => new RegExp(`^${p.replace(/[.?^${}()|[\]\\]/g, "\\$&").replace(/\+/g, "[^/]+").replace(/\*$/, ".*")}$`);
    // Two globs overlap if either matches the other's literal stem (good enough for prefix/segment globs).
    const stem = (p: string) => p.replace(/\*$/, "").replace(/\+/g, "x");
    return a === b || re(a).test(stem(b)) || re(b).test(stem(a));
}

function tenantsOf(resources: PolicyResource[]): Tenant[] {
    const policies = new Map<string, PathRule[]>();
    for (const p of resources.filter((r) => r.type === POLICY_TYPE)) {
        const name = str(get(p.props, "name")) ?? p.name;
        const hcl = str(get(p.props, "policy"));
        if (!hcl) continue;
        try {
            policies.set(name, parseVaultPolicy(hcl));
        } catch (e) {
            if (!(e instanceof PolicyParseError)) throw e;
        }
    }
    return resources
        .filter((r) => r.type === ROLE_TYPE)
        .flatMap((r): Tenant[] => {
            const namespaces = strings(get(r.props, "boundServiceAccountNamespaces"));
            const names = strings(get(r.props, "tokenPolicies"));
            if (!namespaces || !names) return []; // unknown during preview: checked on `up`
            const grants = new Map(names.filter((n) => policies.has(n)).map((n) => [n, policies.get(n)!]));
            return [{ role: str(get(r.props, "roleName")) ?? r.name, namespaces, grants }];
        });
}

export const tenantIsolation: StackValidationPolicy = {
    name: "vault-tenant-isolation",
    description: "Kubernetes auth roles bound to different namespaces (tenants) share no Vault path: no tenant's policy grants another tenant's secrets.",
    validateStack: (args, reportViolation) => {
        const tenants = tenantsOf(args.resources);
        for (let i = 0; i < tenants.length; i++) {
            for (let j = i + 1; j < tenants.length; j++) {
                const [a, b] = [tenants[i], tenants[j]];
                if (a.namespaces.some((n) => b.namespaces.includes(n))) continue; // same tenant
                for (const [pa, ra] of a.grants) {
                    for (const [pb, rb] of b.grants) {
                        const shared = ra.filter((x) => rb.some((y) => pathsOverlap(x.path, y.path))).map((x) => x.path);
                        if (shared.length === 0) continue;
                        reportViolation(
                            `role "${a.role}" (namespaces ${JSON.stringify(a.namespaces)}, policy "${pa}") and role "${b.role}" ` +
                                `(namespaces ${JSON.stringify(b.namespaces)}, policy "${pb}") both reach ${JSON.stringify([...new Set(shared)])}: ` +
                                "each tenant could read the other's secrets. Fix: give every tenant its own kvPrefix and grant each only its own declared paths.",
                        );
                    }
                }
            }
        }
    },
};

const VAP_TYPE = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
const VAP_BINDING_TYPE = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";
const TENANT_TYPES = ["kubernetes:external-secrets.io/v1:SecretStore", "kubernetes:external-secrets.io/v1:ExternalSecret"];
const NS_LABEL = "kubernetes.io/metadata.name";

/** Does a ValidatingAdmissionPolicy match CREATE and UPDATE of core Secrets? */
function guardsSecrets(policy: PolicyResource): boolean {
    const rules = list(get(policy.props, "spec", "matchConstraints", "resourceRules")) ?? [];
    return rules.some((r) => {
        const has = (field: string, value: string) => (strings(get(r, field)) ?? []).some((v) => v === value || v === "*");
        return has("apiGroups", "") && has("resources", "secrets") && has("operations", "CREATE") && has("operations", "UPDATE");
    });
}

export const tenantSecretGuardProd: StackValidationPolicy = {
    name: "tenant-secret-guard-prod",
    description:
        "Prod stacks guard every tenant namespace (one with a SecretStore or ExternalSecret): a ValidatingAdmissionPolicy on Secret CREATE/UPDATE, " +
        "bound with Deny to that namespace, so only external-secrets writes Secrets there (tenantSecretGuard).",
    configSchema: { properties: { ...environmentSchema } },
    validateStack: (args, reportViolation) => {
        const cfg = { ...environmentDefaults, ...(args.getConfig() as object) };
        const stack = args.resources.map((r) => stackFromUrn(r.urn)).find((s) => s !== undefined);
        const env = environmentOf(stack, args.stackTags, cfg);
        if (env !== "prod") {
            args.notApplicable(`stack "${stack}" is not a prod stack (environment ${env})`);
        }
        const namespaces = new Set<string>();
        for (const r of args.resources.filter((x) => TENANT_TYPES.includes(x.type))) {
            const ns = str(get(r.props, "metadata", "namespace"));
            if (ns) namespaces.add(ns); // unknown during preview: checked on `up`
        }
        const guards = new Map(args.resources.filter((r) => r.type === VAP_TYPE && guardsSecrets(r)).map((r) => [str(get(r.props, "metadata", "name")), r]));
        const guarded = new Set<string>();
        for (const b of args.resources.filter((r) => r.type === VAP_BINDING_TYPE)) {
            const deny = (strings(get(b.props, "spec", "validationActions")) ?? []).includes("Deny");
            const ns = str(get(b.props, "spec", "matchResources", "namespaceSelector", "matchLabels", NS_LABEL));
            if (deny && ns && guards.has(str(get(b.props, "spec", "policyName")))) guarded.add(ns);
        }
        for (const ns of [...namespaces].sort()) {
            if (guarded.has(ns)) continue;
            reportViolation(
                `Tenant namespace "${ns}" in the prod stack "${stack}" has no Secret guard: anyone with access to it can create Secrets by hand, outside Vault. ` +
                    "Fix: keep tenantSecretGuard true (a ValidatingAdmissionPolicy on Secret CREATE/UPDATE, bound with validationActions [Deny] to the namespace).",
            );
        }
    },
};

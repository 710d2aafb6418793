// Rules 4 and 8: external-secrets resources use the served API, refresh sanely, own their target
// Secret, and point at a store the program declares.
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { formatSeconds, parseGoDuration } from "../lib/duration";
import { environmentDefaults, environmentOf, environmentSchema, stackFromUrn } from "../lib/env";
import { UNKNOWN, config, get, keys, list, message, show, str } from "../lib/props";
import { ESO_LABEL_PREFIX } from "./secrets";

export const ESO_GROUP = "external-secrets.io";
export const SERVED_VERSION = "v1";
export const EXTERNAL_SECRET_TYPE = `kubernetes:${ESO_GROUP}/${SERVED_VERSION}:ExternalSecret`;
export const CLUSTER_EXTERNAL_SECRET_TYPE = `kubernetes:${ESO_GROUP}/${SERVED_VERSION}:ClusterExternalSecret`;
export const SECRET_STORE_TYPE = `kubernetes:${ESO_GROUP}/${SERVED_VERSION}:SecretStore`;
export const CLUSTER_SECRET_STORE_TYPE = `kubernetes:${ESO_GROUP}/${SERVED_VERSION}:ClusterSecretStore`;

const esoType = /^kubernetes:external-secrets\.io\/([^:]+):(\w+)$/;

export const esoServedApi: ResourceValidationPolicy = {
    name: "eso-served-api-version",
    description:
        "external-secrets resources use external-secrets.io/v1: since external-secrets 1.0 the CRDs serve only v1 " +
        "(v1beta1 is `served: false`, v1alpha1 is gone).",
    validateResource: (args, reportViolation) => {
        const m = esoType.exec(args.type);
        if (!m || m[1] === SERVED_VERSION) {
            return;
        }
        reportViolation(
            message(
                args.type,
                args.name,
                `uses apiVersion "${ESO_GROUP}/${m[1]}"`,
                `declare it as apiVersion "${ESO_GROUP}/${SERVED_VERSION}", kind "${m[2]}" (the v1 schema is the same for these fields)`,
            ),
        );
    },
};

export interface ExternalSecretConfig {
    minRefreshInterval: string;
    maxRefreshInterval: string;
    allowNoRefresh: boolean;
}

export const externalSecretDefaults: ExternalSecretConfig = {
    minRefreshInterval: "30s",
    maxRefreshInterval: "24h",
    allowNoRefresh: false,
};

/** The ExternalSecret spec, also inside a ClusterExternalSecret. */
function externalSecretSpec(type: string, props: unknown): unknown {
    return type === CLUSTER_EXTERNAL_SECRET_TYPE ? get(props, "spec", "externalSecretSpec") : get(props, "spec");
}

export const externalSecretShape: ResourceValidationPolicy = {
    name: "eso-external-secret-shape",
    description:
        "ExternalSecrets refresh within bounds and own their target Secret (creationPolicy Owner), so " +
        "external-secrets labels it reconcile.external-secrets.io/created-by and deletes it with the ExternalSecret.",
    configSchema: {
        properties: {
            minRefreshInterval: {
                type: "string",
                default: externalSecretDefaults.minRefreshInterval,
                description: "Shortest spec.refreshInterval (Go duration); shorter ones hammer Vault.",
            },
            maxRefreshInterval: {
                type: "string",
                default: externalSecretDefaults.maxRefreshInterval,
                description: "Longest spec.refreshInterval (Go duration); longer ones delay rotations.",
            },
            allowNoRefresh: {
                type: "boolean",
                default: externalSecretDefaults.allowNoRefresh,
                description: 'Allow refreshInterval "0" (sync once, never pick up rotations).',
            },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== EXTERNAL_SECRET_TYPE && args.type !== CLUSTER_EXTERNAL_SECRET_TYPE) {
            return;
        }
        const cfg = config(externalSecretDefaults, args.getConfig());
        const report = (problem: string, fix: string) => reportViolation(message(args.type, args.name, problem, fix));
        const spec = externalSecretSpec(args.type, args.props);
        const min = parseGoDuration(cfg.minRefreshInterval) ?? 30;
        const max = parseGoDuration(cfg.maxRefreshInterval) ?? 86400;
        const bounds = `between "${cfg.minRefreshInterval}" and "${cfg.maxRefreshInterval}"`;

        // Unset means ESO's default of 1h, which is within any sane bounds.
        const raw = get(spec, "refreshInterval");
        if (raw !== undefined && raw !== UNKNOWN) {
            const seconds = typeof raw === "string" ? parseGoDuration(raw) : undefined;
            if (seconds === undefined) {
                report(`spec.refreshInterval ${show(raw)} is not a Go duration`, `use a duration such as "1h" ${bounds}`);
            } else if (seconds === 0) {
                if (!cfg.allowNoRefresh) {
                    report(
                        `spec.refreshInterval ${show(raw)} disables refresh, so rotated values in Vault never reach the Secret`,
                        `set a refreshInterval ${bounds}`,
                    );
                }
            } else if (seconds < min || seconds > max) {
                report(`spec.refreshInterval ${show(raw)} (${formatSeconds(seconds)}) is outside the allowed range`, `set a refreshInterval ${bounds}`);
            }
        }

        const policy = get(spec, "target", "creationPolicy");
        if (policy !== undefined && policy !== UNKNOWN && policy !== "Owner") {
            report(
                `spec.target.creationPolicy is ${show(policy)}; only "Owner" makes external-secrets set an ownerReference and the ` +
                    `"${ESO_LABEL_PREFIX}created-by" label on the Secret`,
                'remove creationPolicy or set it to "Owner"',
            );
        }

        const labels = keys(get(spec, "target", "template", "metadata", "labels")).filter((k) => k.startsWith(ESO_LABEL_PREFIX));
        if (labels.length > 0) {
            report(
                `spec.target.template.metadata.labels sets ${labels.map((l) => `"${l}"`).join(", ")}, which external-secrets manages itself`,
                "remove these labels from the template; with creationPolicy Owner external-secrets adds them",
            );
        }
    },
};

interface StoreRef {
    name: string;
    kind: string;
}

/** Every store an ExternalSecret reads from: spec.secretStoreRef and per-entry sourceRef.storeRef. */
function storeRefs(spec: unknown): Array<{ at: string; ref: StoreRef }> {
    const out: Array<{ at: string; ref: StoreRef }> = [];
    const add = (at: string, ref: unknown) => {
        const name = get(ref, "name");
        if (typeof name === "string") {
            out.push({ at, ref: { name, kind: str(get(ref, "kind")) ?? "SecretStore" } });
        }
    };
    add("spec.secretStoreRef", get(spec, "secretStoreRef"));
    for (const field of ["data", "dataFrom"]) {
        (list(get(spec, field)) ?? []).forEach((entry, i) => {
            const ref = get(entry, "sourceRef", "storeRef");
            if (ref !== undefined && ref !== UNKNOWN) {
                add(`spec.${field}[${i}].sourceRef.storeRef`, ref);
            }
        });
    }
    return out;
}

/** A namespace as declared; "*" when the preview cannot know it yet (matches any). */
function namespaceOf(props: unknown): string {
    const ns = get(props, "metadata", "namespace");
    return ns === UNKNOWN ? "*" : (str(ns) ?? "default");
}

export const externalSecretStoreExists: StackValidationPolicy = {
    name: "eso-store-ref-exists",
    description:
        "Every ExternalSecret references a SecretStore in its own namespace or a ClusterSecretStore declared by the same program.",
    validateStack: (args, reportViolation) => {
        const clusterStores = new Set<string>();
        const stores: Array<{ name: string; namespace: string }> = [];
        for (const r of args.resources) {
            const name = get(r.props, "metadata", "name");
            if (r.type === SECRET_STORE_TYPE && typeof name === "string") {
                stores.push({ name, namespace: namespaceOf(r.props) });
            } else if (r.type === CLUSTER_SECRET_STORE_TYPE && typeof name === "string") {
                clusterStores.add(name);
            }
        }
        for (const r of args.resources) {
            if (r.type !== EXTERNAL_SECRET_TYPE) {
                continue;
            }
            const namespace = namespaceOf(r.props);
            for (const { at, ref } of storeRefs(get(r.props, "spec"))) {
                const cluster = ref.kind === "ClusterSecretStore";
                const found = cluster
                    ? clusterStores.has(ref.name)
                    : stores.some((s) => s.name === ref.name && (s.namespace === namespace || s.namespace === "*" || namespace === "*"));
                if (found) {
                    continue;
                }
                const where = cluster || namespace === "*" ? "" : ` in namespace "${namespace}"`;
                reportViolation(
                    message(
                        r.type,
                        r.name,
                        `${at} names ${ref.kind} "${ref.name}", which this program does not declare${where}`,
                        `declare a ${ref.kind} with metadata.name "${ref.name}"${where}, or point ${at} at an existing one`,
                    ),
                    r.urn,
                );
            }
        }
    },
};

export const esoVaultStoreTls: StackValidationPolicy = {
    name: "eso-vault-store-tls",
    description:
        "Outside dev stacks, SecretStores and ClusterSecretStores reach Vault over https: ESO sends its service-account " +
        "token and receives every secret on that connection (the guide used http://vault.vault:8200).",
    configSchema: { properties: { ...environmentSchema } },
    validateStack: (args, reportViolation) => {
        const cfg = config(environmentDefaults, args.getConfig());
        const stack = args.resources.map((r) => stackFromUrn(r.urn)).find((s) => s !== undefined);
        const env = environmentOf(stack, args.stackTags, cfg);
        if (env === "dev") {
            args.notApplicable(`stack "${stack}" is a dev stack`);
        }
        for (const r of args.resources) {
            if (r.type !== SECRET_STORE_TYPE && r.type !== CLUSTER_SECRET_STORE_TYPE) {
                continue;
            }
            const server = get(r.props, "spec", "provider", "vault", "server");
            if (typeof server === "string" && !server.startsWith("https://")) {
                reportViolation(
                    message(
                        r.type,
                        r.name,
                        `spec.provider.vault.server is "${server}" in stack "${stack}" (environment ${env}), so tokens and secrets travel unencrypted`,
                        "serve Vault over TLS and use an https:// address (with caProvider/caBundle for a private CA)",
                    ),
                    r.urn,
                );
            }
        }
    },
};

// Rule 1: no Kubernetes Secret carries literal data; values come from Vault via ExternalSecrets.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { UNKNOWN, config, get, keys, message, str } from "../lib/props";

export const SECRET_TYPE = "kubernetes:core/v1:Secret";
/** Labels ESO puts on the Secrets it manages; a hand-made Secret carrying them would pass as ESO's. */
export const ESO_LABEL_PREFIX = "reconcile.external-secrets.io/";

export interface NoLiteralSecretsConfig {
    allowedTypes: string[];
    allowedNames: string[];
}

export const noLiteralSecretsDefaults: NoLiteralSecretsConfig = {
    // Token Secrets are filled in by the token controller; the program only declares them.
    allowedTypes: ["kubernetes.io/service-account-token"],
    allowedNames: [],
};

function hasData(value: unknown): boolean {
    return value === UNKNOWN || keys(value).length > 0;
}

export const noLiteralSecrets: ResourceValidationPolicy = {
    name: "no-literal-kubernetes-secrets",
    description:
        "Kubernetes Secrets must not carry data/stringData in the program (it ends up in code and state); " +
        "declare an ExternalSecret that syncs the value from Vault instead.",
    configSchema: {
        properties: {
            allowedTypes: {
                type: "array",
                items: { type: "string" },
                default: noLiteralSecretsDefaults.allowedTypes,
                description: "Secret types that may carry data (service-account tokens are filled by Kubernetes).",
            },
            allowedNames: {
                type: "array",
                items: { type: "string" },
                default: noLiteralSecretsDefaults.allowedNames,
                description: "Pulumi resource names, metadata.name or namespace/name values that may carry data.",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== SECRET_TYPE) {
            return;
        }
        const cfg = config(noLiteralSecretsDefaults, args.getConfig());
        const secretType = str(get(args.props, "type")) ?? "Opaque";
        const metaName = str(get(args.props, "metadata", "name"));
        const namespace = str(get(args.props, "metadata", "namespace"));
        const names = [args.name, metaName, namespace && metaName ? `${namespace}/${metaName}` : undefined];

        const labels = keys(get(args.props, "metadata", "labels")).filter((k) => k.startsWith(ESO_LABEL_PREFIX));
        if (labels.length > 0) {
            reportViolation(
                message(
                    args.type,
                    args.name,
                    `sets the ESO-managed label(s) ${labels.map((l) => `"${l}"`).join(", ")}, which would make a hand-made Secret look synced by external-secrets`,
                    "remove these labels; external-secrets sets them on the Secrets it creates",
                ),
            );
        }

        if (cfg.allowedTypes.includes(secretType) || names.some((n) => n !== undefined && cfg.allowedNames.includes(n))) {
            return;
        }
        const fields = ["data", "stringData"].filter((f) => hasData(get(args.props, f)));
        if (fields.length === 0) {
            return;
        }
        const fieldKeys = fields.map((f) => {
            const k = keys(get(args.props, f));
            return `${f}${k.length > 0 ? ` (${k.map((x) => `"${x}"`).join(", ")})` : ""}`;
        });
        reportViolation(
            message(
                args.type,
                args.name,
                `type "${secretType}" sets literal ${fieldKeys.join(" and ")}`,
                "store the value in Vault and declare an external-secrets.io/v1 ExternalSecret whose target " +
                    `(template.type "${secretType}") creates this Secret, or allow it with the policy config allowedNames/allowedTypes`,
            ),
        );
    },
};

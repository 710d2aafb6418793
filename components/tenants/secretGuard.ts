import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The Secret types only ESO may write in a guarded namespace (an absent type is Opaque). */
export const GUARDED_SECRET_TYPES = ["Opaque", "kubernetes.io/dockerconfigjson"] as const;

export interface TenantSecretGuardArgs {
    /** The tenant namespace the binding applies to. */
    namespace: pulumi.Input<string>;
    /** The ESO controller's identity: the only one allowed to write guarded Secrets. */
    esoServiceAccount: { name: string; namespace: string };
}

/**
 * The seed guide's closing advice without Kyverno: a ValidatingAdmissionPolicy (the API server
 * enforces it, Kubernetes >= 1.30) and its binding to one tenant namespace. Only the ESO
 * controller may create or update Opaque and dockerconfigjson Secrets there; anyone else (a
 * tenant's user, the cluster admin) is denied with a message pointing to ExternalSecrets.
 * Service-account-token and other system Secret types are not matched. Declared as two children of
 * `parent` named `<name>-policy` and `<name>-binding` (no component of its own: a tenant's
 * resources are what a preview of many tenants pays for). Returns the policy.
 */
export function tenantSecretGuard(name: string, args: TenantSecretGuardArgs, parent: pulumi.Resource): k8s.admissionregistration.v1.ValidatingAdmissionPolicy {
    const eso = `system:serviceaccount:${args.esoServiceAccount.namespace}:${args.esoServiceAccount.name}`;
    const ns = pulumi.output(args.namespace);
    const policyName = pulumi.interpolate`tenant-secret-guard.${ns}`;
    const labels = { "app.kubernetes.io/part-of": "secrets-platform" };
    const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        `${name}-policy`,
        {
            metadata: { name: policyName, labels },
            spec: {
                failurePolicy: "Fail",
                matchConstraints: {
                    resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["secrets"] }],
                },
                matchConditions: [{ name: "guarded-types", expression: guardedTypesExpression() }],
                validations: [
                    {
                        expression: allowedWritersExpression(eso),
                        messageExpression: denyMessageExpression(),
                        reason: "Forbidden",
                    },
                ],
            },
        },
        { parent },
    );
    new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        `${name}-binding`,
        {
            metadata: { name: policyName, labels },
            spec: {
                policyName: policy.metadata.name,
                validationActions: ["Deny"],
                matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } },
            },
        },
        { parent },
    );
    return policy;
}

/**
 * CEL: who may write. ESO; and the garbage collector, which edits owner references when an
 * ExternalSecret is deleted with `--cascade=orphan` (as the controller manager's own identity, or its
 * service account with --use-service-account-credentials).
 */
export function allowedWritersExpression(eso: string): string {
    const writers = [eso, "system:serviceaccount:kube-system:generic-garbage-collector", "system:kube-controller-manager"];
    return `request.userInfo.username in [${writers.map((w) => JSON.stringify(w)).join(", ")}]`;
}

/** CEL: the request's Secret is one of the guarded types. */
export function guardedTypesExpression(): string {
    const types = GUARDED_SECRET_TYPES.map((t) => JSON.stringify(t)).join(", ");
    return `!has(object.type) || object.type in [${types}]`;
}

/** CEL: the denial, naming who asked and the way that works. */
export function denyMessageExpression(): string {
    return (
        `"Secrets of type Opaque and dockerconfigjson in namespace " + request.namespace + " are written by external-secrets only ` +
        `(tenantSecretGuard); " + request.userInfo.username + " may not create or change them. Store the value in Vault and ` +
        `declare an ExternalSecret for it (README 'Declaring secrets')."`
    );
}

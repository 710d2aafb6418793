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
 * Service-account-token and other system Secret types are not matched.
 */
export class TenantSecretGuard extends pulumi.ComponentResource {
    public readonly policyName: pulumi.Output<string>;

    constructor(name: string, args: TenantSecretGuardArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:tenants:TenantSecretGuard", name, {}, opts);
        const eso = `system:serviceaccount:${args.esoServiceAccount.namespace}:${args.esoServiceAccount.name}`;
        const ns = pulumi.output(args.namespace);
        const policyName = pulumi.interpolate`tenant-secret-guard.${ns}`;
        const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            `${name}-policy`,
            {
                metadata: { name: policyName, labels: { "app.kubernetes.io/part-of": "secrets-platform" } },
                spec: {
                    failurePolicy: "Fail",
                    matchConstraints: {
                        resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["secrets"] }],
                    },
                    matchConditions: [{ name: "guarded-types", expression: guardedTypesExpression() }],
                    validations: [
                        {
                            expression: `request.userInfo.username == ${JSON.stringify(eso)}`,
                            messageExpression: denyMessageExpression(),
                            reason: "Forbidden",
                        },
                    ],
                },
            },
            { parent: this },
        );
        new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            `${name}-binding`,
            {
                metadata: { name: policyName, labels: { "app.kubernetes.io/part-of": "secrets-platform" } },
                spec: {
                    policyName: policy.metadata.name,
                    validationActions: ["Deny"],
                    matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } },
                },
            },
            { parent: this },
        );
        this.policyName = policy.metadata.name;
        this.registerOutputs({ policyName: this.policyName });
    }
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

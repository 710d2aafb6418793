import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface TokenReviewerArgs {
    /** Namespace of the service account whose token Vault uses for TokenReview calls. */
    namespace: pulumi.Input<string>;
    /** The service account (Vault's own, created by the chart). */
    serviceAccountName: pulumi.Input<string>;
    /**
     * Create the service account too: a spoke runs no Vault, so the reviewer is an account of its own.
     * @default - false (the account exists: Vault's, from the chart or the program)
     */
    createServiceAccount?: boolean;
}

/**
 * A long-lived service-account-token Secret for Vault's service account (Kubernetes ≥ 1.24 no
 * longer creates one) and the ClusterRoleBinding to system:auth-delegator that lets Vault call
 * the TokenReview API when ESO logs in.
 */
export class TokenReviewer extends pulumi.ComponentResource {
    /** The reviewer JWT (secret). */
    public readonly jwt: pulumi.Output<string>;
    /** The cluster CA the token controller put beside the token (PEM). */
    public readonly caCert: pulumi.Output<string>;
    public readonly secretName: pulumi.Output<string>;
    public readonly clusterRoleBinding: k8s.rbac.v1.ClusterRoleBinding;

    constructor(name: string, args: TokenReviewerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:vault:TokenReviewer", name, {}, opts);

        const account = args.createServiceAccount
            ? new k8s.core.v1.ServiceAccount(`${name}-account`, { metadata: { name: args.serviceAccountName, namespace: args.namespace } }, { parent: this })
            : undefined;
        // The provider waits until the token controller has filled data.token for this Secret type.
        const secret = new k8s.core.v1.Secret(
            `${name}-token`,
            {
                metadata: {
                    name: pulumi.interpolate`${args.serviceAccountName}-token-reviewer`,
                    namespace: args.namespace,
                    annotations: { "kubernetes.io/service-account.name": args.serviceAccountName },
                },
                type: "kubernetes.io/service-account-token",
            },
            { parent: this, dependsOn: account ? [account] : [] },
        );
        this.clusterRoleBinding = new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-auth-delegator`,
            {
                metadata: { name: pulumi.interpolate`${args.namespace}-${args.serviceAccountName}-tokenreview` },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
                subjects: [{ kind: "ServiceAccount", name: args.serviceAccountName, namespace: args.namespace }],
            },
            { parent: this },
        );

        const data = secret.data.apply((d) => d ?? {});
        this.jwt = pulumi.secret(data.apply((d) => decode(d["token"])));
        this.caCert = data.apply((d) => decode(d["ca.crt"]));
        this.secretName = secret.metadata.name;
        this.registerOutputs({ jwt: this.jwt, caCert: this.caCert, secretName: this.secretName });
    }
}

function decode(value: string | undefined): string {
    return value ? Buffer.from(value, "base64").toString("utf8") : "";
}

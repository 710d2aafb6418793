import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ChartSource } from "../config";
import { chartSource } from "../helm";

export interface ExternalSecretsOperatorArgs {
    /** Namespace for the operator. */
    namespace: string;
    /** Chart repository and exact version, or a local chart directory. */
    chart: ChartSource;
    /** The controller's service account. @default - "external-secrets" */
    serviceAccountName?: string;
    /** Install the validating webhook. @default - true */
    webhook?: boolean;
    /** Install the cert controller that feeds the webhook. @default - true */
    certController?: boolean;
    /**
     * Resources to create before the operator (its namespace, hence the chart and its CRDs).
     * @default - none: created as soon as the engine gets to it
     */
    after?: pulumi.Input<pulumi.Resource[]>;
    /**
     * Don't wait for the chart's workloads to become ready. Only for clusters that cannot run pods
     * (the local end-to-end stack runs the controller on the host instead).
     * @default - false
     */
    skipAwait?: boolean;
    /**
     * ExternalSecrets the controller syncs at once (the chart's `concurrent`). A sync waits on Vault
     * and the API server, not on CPU; one at a time, hundreds of ExternalSecrets (each of which `up`
     * waits for until it is Ready) queue behind each other's refreshes (docs/scale.md).
     * @default - 1, the chart's
     */
    concurrent?: number;
    /**
     * Reuse each store's Vault token until it expires (the chart's `vault.enableTokenCache`), instead
     * of a login and a revoke on every sync. Tokens are cached per store (name, namespace, kind and
     * resourceVersion): tenants never share one.
     * @default - false, the chart's
     */
    vaultTokenCache?: boolean;
}

/** The external-secrets operator and its CRDs. */
export class ExternalSecretsOperator extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    public readonly serviceAccountName: string;
    /** Depend on this before creating SecretStores or ExternalSecrets (their CRDs come with it). */
    public readonly chart: k8s.helm.v4.Chart;

    constructor(name: string, args: ExternalSecretsOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:externalSecrets:Operator", name, {}, opts);
        this.serviceAccountName = args.serviceAccountName ?? "external-secrets";

        const ns = new k8s.core.v1.Namespace(
            `${name}-ns`,
            { metadata: { name: args.namespace, labels: { "app.kubernetes.io/part-of": "secrets-platform" } } },
            { parent: this, dependsOn: args.after },
        );
        this.chart = new k8s.helm.v4.Chart(
            `${name}-chart`,
            {
                name: "external-secrets",
                namespace: ns.metadata.name,
                ...chartSource(args.chart),
                skipAwait: args.skipAwait ?? false,
                values: {
                    installCRDs: true,
                    serviceAccount: { create: true, name: this.serviceAccountName },
                    webhook: { create: args.webhook ?? true },
                    certController: { create: args.certController ?? true },
                    concurrent: args.concurrent ?? 1,
                    vault: { enableTokenCache: args.vaultTokenCache ?? false },
                },
            },
            { parent: this },
        );
        this.namespace = ns.metadata.name;
        this.registerOutputs({ namespace: this.namespace, serviceAccountName: this.serviceAccountName });
    }
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface AppNamespaceArgs {
    /** Namespace name. */
    name: string;
    /**
     * Service account ESO requests a token for when a SecretStore in this namespace logs in to
     * Vault; the Vault role is bound to exactly this name and namespace.
     */
    readerAccount: string;
}

/** A namespace whose workloads consume synced secrets, with the identity its SecretStore uses. */
export class AppNamespace extends pulumi.ComponentResource {
    public readonly name: pulumi.Output<string>;
    public readonly readerAccount: pulumi.Output<string>;

    constructor(name: string, args: AppNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:apps:AppNamespace", name, {}, opts);
        const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: args.name } }, { parent: this });
        const sa = new k8s.core.v1.ServiceAccount(
            `${name}-reader`,
            {
                metadata: { name: args.readerAccount, namespace: ns.metadata.name },
                // Only ESO uses it, through the TokenRequest API; no pod mounts its token.
                automountServiceAccountToken: false,
            },
            { parent: this },
        );
        this.name = ns.metadata.name;
        this.readerAccount = sa.metadata.name;
        this.registerOutputs({ name: this.name, readerAccount: this.readerAccount });
    }
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface DemoWorkloadArgs {
    namespace: pulumi.Input<string>;
    /** Private image pulled through the synced pull secret. */
    image: string;
    /** The dockerconfigjson Secret written by ESO. */
    pullSecretName: pulumi.Input<string>;
}

/** The guide's go-sample Deployment, pulling a private image with the ESO-synced pull secret. */
export class DemoWorkload extends pulumi.ComponentResource {
    public readonly deploymentName: pulumi.Output<string>;

    constructor(name: string, args: DemoWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:apps:DemoWorkload", name, {}, opts);
        const labels = { app: "go-sample" };
        const deployment = new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { name: "go-sample", namespace: args.namespace },
                spec: {
                    selector: { matchLabels: labels },
                    template: {
                        metadata: { labels },
                        spec: {
                            containers: [{ name: "go-sample", image: args.image, ports: [{ containerPort: 80 }] }],
                            imagePullSecrets: [{ name: args.pullSecretName }],
                            automountServiceAccountToken: false,
                        },
                    },
                },
            },
            { parent: this },
        );
        this.deploymentName = deployment.metadata.name;
        this.registerOutputs({ deploymentName: this.deploymentName });
    }
}

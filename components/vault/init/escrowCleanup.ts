// Removes the init escrow (./escrow.ts) once the state holds the keys. It depends on the init
// resource, and the engine saves a step's result before it starts any step that depends on it, so
// this runs only after the keys are checkpointed: the exposure window ends within the same `up`.
import * as pulumi from "@pulumi/pulumi";
import { describeEscrow, escrowLocation, removeEscrow } from "./escrow";
import type { KubernetesTarget } from "./inputs";

/** Bump when behaviour changes, so existing stacks run the new code. */
export const ESCROW_CLEANUP_VERSION = 1;

export interface VaultInitEscrowCleanupArgs {
    /** The init resource's id: a new init (a new Vault) runs the cleanup again. */
    initId: pulumi.Input<string>;
    /** Same target as the init resource (where its escrow lives). */
    address?: pulumi.Input<string>;
    kubernetes?: pulumi.Input<KubernetesTarget>;
}

const cleanupProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: Record<string, unknown>) {
        const loc = escrowLocation(inputs as { address?: string; kubernetes?: KubernetesTarget });
        if (await removeEscrow(loc)) require("@pulumi/pulumi").log.info(`VaultInit: the state holds the keys; escrow ${describeEscrow(loc)} removed`);
        return { id: "vault-init-escrow", outs: { initId: inputs.initId, version: inputs.version } };
    },
    async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
        return { changes: olds.initId !== news.initId || olds.version !== news.version };
    },
    async update(_id: string, _olds: Record<string, unknown>, news: Record<string, unknown>) {
        const loc = escrowLocation(news as { address?: string; kubernetes?: KubernetesTarget });
        if (await removeEscrow(loc)) require("@pulumi/pulumi").log.info(`VaultInit: the state holds the keys; escrow ${describeEscrow(loc)} removed`);
        return { outs: { initId: news.initId, version: news.version } };
    },
};

/** Deletes the init escrow after the init resource's keys are in the state. */
export class VaultInitEscrowCleanup extends pulumi.dynamic.Resource {
    constructor(name: string, args: VaultInitEscrowCleanupArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            cleanupProvider,
            name,
            {
                initId: args.initId,
                address: args.address,
                kubernetes: args.kubernetes === undefined ? undefined : pulumi.output(args.kubernetes).apply((k) => (k.kubeconfig ? pulumi.secret(k) : k)),
                version: ESCROW_CLEANUP_VERSION,
            },
            opts,
            "vault",
            "VaultInitEscrowCleanup",
        );
    }
}

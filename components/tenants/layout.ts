import * as pulumi from "@pulumi/pulumi";

/**
 * How a tenant's resources sit in the state.
 * - "flat": the store and every ExternalSecret are children of the Tenant itself.
 * - "wrapped": each has a component of its own in between (VaultSecretStore, ExternalSecret), as
 *   every tenant did before the flat layout.
 *
 * Both declare the same objects in the cluster and in Vault. A component costs the DIY backend three
 * whole-state writes (its create's two, its outputs' one) and holds its children back until they are
 * done: 12 components a tenant of 10 secrets made adding it ~1.4x the bare program (docs/scale.md).
 * Tenants already deployed wrapped stay wrapped (an upgrade changes nothing); new ones are flat.
 */
export type TenantLayout = "flat" | "wrapped";

/** The stack output that records each tenant's layout, for the next run to read. */
export const LAYOUTS_OUTPUT = "tenantLayouts";

/** What this stack's last deployment left: whether there was one, and each tenant's layout. */
export interface TenantLayoutRecord {
    /** The stack has outputs: a deployment ran (a later `up` or preview, not the first). */
    deployed: boolean;
    layoutOf: (tenant: string) => TenantLayout;
}

/**
 * The layout of each tenant as this stack's last deployment recorded it, read from the stack's own
 * outputs (the engine's readStackOutputs, what a StackReference reads, as an invoke: no resource in
 * the state, no step in a preview; a preview reads just as `up` does):
 * - a tenant its `tenantLayouts` names: that layout;
 * - every tenant, when the stack was deployed by a program from before the flat layout (it has
 *   outputs, `appNamespace` among them, but no `tenantLayouts`): "wrapped";
 * - any other tenant is new: "flat". A run killed before its outputs were written leaves the record
 *   as it was; the tenants it created flat are read back as new, so flat again.
 */
export async function recordedTenantLayouts(): Promise<TenantLayoutRecord> {
    const name = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
    const outputs = await readOwnOutputs(name);
    return layoutRecord(outputs[LAYOUTS_OUTPUT], outputs.appNamespace !== undefined);
}

/**
 * The DIY backend reads the state file while this run's engine rewrites it; the file itself is
 * replaced atomically, its metadata sidecar is not: a read can meet it empty ("failed to load
 * checkpoint: EOF"). Such a read is retried; what still fails after that stops the run.
 */
async function readOwnOutputs(name: string, attempts = 5): Promise<Record<string, unknown>> {
    for (let attempt = 1; ; attempt++) {
        try {
            const res = await pulumi.runtime.invoke("pulumi:pulumi:readStackOutputs", { name });
            return (res?.outputs ?? {}) as Record<string, unknown>;
        } catch (e) {
            if (attempt >= attempts) throw new Error(`cannot read this stack's own outputs (${name}), the record of its tenants' layouts: ${(e as Error).message}`);
            await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
        }
    }
}

/** The record's meaning (see recordedTenantLayouts). */
export function layoutRecord(recorded: unknown, deployed: boolean): TenantLayoutRecord {
    if (recorded === undefined || recorded === null) return { deployed, layoutOf: () => (deployed ? "wrapped" : "flat") };
    const known = typeof recorded === "object" && !Array.isArray(recorded) ? (recorded as Record<string, unknown>) : {};
    return { deployed, layoutOf: (tenant) => (known[tenant] === "wrapped" ? "wrapped" : "flat") };
}

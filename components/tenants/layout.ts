import * as pulumi from "@pulumi/pulumi";

/**
 * How a tenant's resources sit in the state.
 * - "flat": the store and every ExternalSecret are children of the Tenant itself.
 * - "wrapped": each has a component of its own in between (VaultSecretStore, ExternalSecret), as
 *   every tenant did before the flat layout.
 *
 * Both declare the same objects in the cluster and in Vault. A component costs the DIY backend three
 * whole-state writes (its create's two, its outputs' one) and holds its children back until they are
 * done: 12 components a tenant of 10 secrets made adding it ~1.4x the bare program (README "Scale").
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
 * outputs (a StackReference to itself, which a preview reads just as `up` does):
 * - a tenant its `tenantLayouts` names: that layout;
 * - every tenant, when the stack was deployed by a program from before the flat layout (it has
 *   outputs, `appNamespace` among them, but no `tenantLayouts`): "wrapped";
 * - any other tenant is new: "flat". A run killed before its outputs were written leaves the record
 *   as it was; the tenants it created flat are read back as new, so flat again.
 */
export async function recordedTenantLayouts(name: string, opts?: pulumi.CustomResourceOptions): Promise<TenantLayoutRecord> {
    const self = new pulumi.StackReference(name, { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}` }, opts);
    const [layouts, appNamespace] = await Promise.all([self.getOutputDetails(LAYOUTS_OUTPUT), self.getOutputDetails("appNamespace")]);
    return layoutRecord(layouts.value, appNamespace.value !== undefined);
}

/** The record's meaning (see recordedTenantLayouts). */
export function layoutRecord(recorded: unknown, deployed: boolean): TenantLayoutRecord {
    if (recorded === undefined || recorded === null) return { deployed, layoutOf: () => (deployed ? "wrapped" : "flat") };
    const known = typeof recorded === "object" && !Array.isArray(recorded) ? (recorded as Record<string, unknown>) : {};
    return { deployed, layoutOf: (tenant) => (known[tenant] === "wrapped" ? "wrapped" : "flat") };
}

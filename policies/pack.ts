// The policy list and pack metadata, kept apart from index.ts so tests can import the rules
// without starting the policy server that `new PolicyPack` launches.
import { PolicyPackArgs } from "@pulumi/policy";
import { helmChartPinned } from "./rules/charts";
import { esoServedApi, esoVaultStoreTls, externalSecretShape, externalSecretStoreExists } from "./rules/eso";
import { vaultChartExposure, vaultServiceExposure } from "./rules/exposure";
import { noLiteralSecrets } from "./rules/secrets";
import { vaultAuditEnabled, vaultProdAutoUnseal, vaultProdHa } from "./rules/stack";
import { tenantIsolation, tenantSecretGuardProd } from "./rules/tenants";
import { kubernetesAuthRoleBound, vaultPolicyLeastPrivilege } from "./rules/vault";

export const PACK_NAME = "vault-eso-platform";

export const policies = [
    noLiteralSecrets,
    vaultPolicyLeastPrivilege,
    kubernetesAuthRoleBound,
    esoServedApi,
    externalSecretShape,
    helmChartPinned,
    vaultChartExposure,
    vaultServiceExposure,
    vaultAuditEnabled,
    vaultProdHa,
    vaultProdAutoUnseal,
    externalSecretStoreExists,
    esoVaultStoreTls,
    tenantIsolation,
    tenantSecretGuardProd,
];

export const packArgs: PolicyPackArgs = {
    description: "Guardrails for the Vault/OpenBao + external-secrets platform: no literal secrets, least-privilege Vault, pinned charts, TLS, audit and HA.",
    // Every rule blocks `pulumi up` by default; relax per rule with --policy-pack-config.
    enforcementLevel: "mandatory",
    policies,
};

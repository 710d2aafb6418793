// The `seal` stanza and what the chart needs for it: credentials from a Kubernetes Secret as
// environment variables (never in the HCL ConfigMap), or workload identity annotations.
import { SEAL_TYPES, SealSpec } from "../config/seal";

const hclString = (v: string) => JSON.stringify(v);

/** The server HCL `seal "<type>" { ... }` stanza; empty for Shamir. */
export function sealHcl(seal: SealSpec | undefined): string {
    if (!seal || seal.type === "shamir") return "";
    const spec = SEAL_TYPES[seal.type];
    const params = { ...spec.required, ...spec.optional };
    const lines = Object.entries(seal.params).map(([k, v]) => `  ${params[k].hcl} = ${typeof v === "boolean" ? String(v) : hclString(v)}`);
    return [`seal "${seal.type}" {`, ...lines, "}"].join("\n");
}

/**
 * The chart values a seal adds to `server`: extraSecretEnvironmentVars from credentialsSecret
 * (a file credential is mounted through extraVolumes and its path exported), and the service
 * account's annotations for workload identity. `userconfig`: where the chart mounts extraVolumes.
 */
export function sealServerValues(seal: SealSpec | undefined, o: { chartName?: string; userconfig: string }): {
    extraSecretEnvironmentVars?: { envName: string; secretName: string; secretKey: string }[];
    extraVolumes?: { type: "secret"; name: string }[];
    extraEnvironmentVars?: Record<string, string>;
    serviceAccountAnnotations?: Record<string, string>;
} {
    if (!seal || seal.type === "shamir") return {};
    const spec = SEAL_TYPES[seal.type];
    const out: ReturnType<typeof sealServerValues> = {};
    if (seal.credentialsSecret) {
        for (const [secretKey, c] of Object.entries(spec.credentials)) {
            if (c.file) {
                out.extraVolumes = [...(out.extraVolumes ?? []), { type: "secret", name: seal.credentialsSecret }];
                out.extraEnvironmentVars = { ...out.extraEnvironmentVars, [c.env]: `${o.userconfig}/${seal.credentialsSecret}/${secretKey}` };
            } else {
                // OpenBao reads BAO_TOKEN (VAULT_TOKEN only as a fallback).
                const envName = o.chartName === "openbao" && c.env === "VAULT_TOKEN" ? "BAO_TOKEN" : c.env;
                out.extraSecretEnvironmentVars = [...(out.extraSecretEnvironmentVars ?? []), { envName, secretName: seal.credentialsSecret, secretKey }];
            }
        }
    }
    if (seal.serviceAccountAnnotations) out.serviceAccountAnnotations = seal.serviceAccountAnnotations;
    return out;
}

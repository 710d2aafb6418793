// The whole program, run under Pulumi mocks for each committed stack, must pass the pack exactly
// as `pulumi preview --policy-pack policies --policy-pack-config policies/config/<stack>.json`.
import * as fs from "fs";
import * as path from "path";
import { policies } from "../../policies/pack";
import { Recorded, runProgram } from "../support/program";
import { Fixture, runPack } from "./harness";

const secrets = { registryPassword: "s3cret-registry-token" };
const caFile = path.join(__dirname, "../fixtures/vault-ca.pem");

function packConfig(stack: string): Record<string, unknown> {
    return JSON.parse(fs.readFileSync(path.join(__dirname, "../../policies/config", `${stack}.json`), "utf8")) as Record<string, unknown>;
}

const asFixtures = (resources: Recorded[]): Fixture[] =>
    resources.filter((r) => r.custom || r.type.startsWith("kubernetes:helm.sh/")).map((r) => ({ type: r.type, name: r.name, props: r.inputs }));

async function violations(stack: "dev" | "prod" | "dev-tenants", config: Record<string, string | undefined> = {}): Promise<string[]> {
    const run = await runProgram(stack, stack === "prod" ? { vaultCaCertFile: caFile, ...config } : config, secrets);
    const fixtures = asFixtures(run.resources);
    // Guards against a vacuous pass: the rules' targets are really in the graph.
    expect(fixtures.map((f) => f.type)).toEqual(
        expect.arrayContaining([
            "kubernetes:helm.sh/v4:Chart",
            "vault:index/policy:Policy",
            "vault:kubernetes/authBackendRole:AuthBackendRole",
            "kubernetes:external-secrets.io/v1:ExternalSecret",
            "kubernetes:core/v1:Secret",
        ]),
    );
    return runPack(policies, fixtures, { stack, config: packConfig(stack) });
}

describe("the program passes the policy pack", () => {
    it("dev stack", async () => {
        expect(await violations("dev")).toEqual([]);
    }, 120_000);

    it("dev-tenants stack (two tenants: the isolation rule sees three roles, each with only its own paths)", async () => {
        expect(await violations("dev-tenants")).toEqual([]);
    }, 120_000);

    it("prod stack", async () => {
        expect(await violations("prod")).toEqual([]);
    }, 120_000);

    it("dev stack with a ClusterSecretStore", async () => {
        expect(await violations("dev", { storeKind: "ClusterSecretStore" })).toEqual([]);
    }, 120_000);
});

describe("the pack sees the program's real shapes", () => {
    it("judging the dev graph without audit by prod rules flags the missing audit device, the standalone Vault, Shamir and the http store", async () => {
        const run = await runProgram("dev", { vaultAudit: "false" }, secrets);
        const found = await runPack(policies, asFixtures(run.resources), { stack: "prod", config: packConfig("prod") });
        expect(found).toEqual([
            'vault-audit-device: Stack "prod" (environment prod) declares no vault:index/audit:Audit and no audit block in the chart\'s server HCL: ' +
                "Vault requests are not audited. Fix: keep vaultAudit true (vault.Audit for HashiCorp Vault; the HCL block for OpenBao in chart mode); " +
                "an external OpenBao declares its audit device in its own configuration, which this pack cannot see: set this rule's environment to dev for that stack.",
            'vault-prod-ha: kubernetes:helm.sh/v4:Chart "platform-chart": server.ha.enabled is false in the prod stack "prod". Fix: set server.ha.enabled to true.',
            'vault-prod-ha: kubernetes:helm.sh/v4:Chart "platform-chart": server.ha.raft.enabled is <unset> in the prod stack "prod". ' +
                "Fix: set server.ha.raft.enabled to true (integrated storage).",
            'vault-prod-auto-unseal: Stack "prod" (environment prod) seals Vault with Shamir keys that init returns in plaintext: every pod restart waits for someone to run `pulumi up`. ' +
                'Fix: set vaultSeal to an auto-unseal seal (transit, awskms, gcpckms, azurekeyvault; README "Day 2"), or give init PGP keys.',
            'eso-vault-store-tls: kubernetes:external-secrets.io/v1:SecretStore "platform-tenant-default-store-store": spec.provider.vault.server is "http://vault.vault.svc:8200" ' +
                'in stack "prod" (environment prod), so tokens and secrets travel unencrypted. Fix: serve Vault over TLS and use an https:// address (with caProvider/caBundle for a private CA).',
        ]);
    }, 120_000);
});

import { environmentDefaults, environmentOf, stackFromUrn } from "../../policies/lib/env";
import { vaultAuditEnabled, vaultProdAutoUnseal, vaultProdHa } from "../../policies/rules/stack";
import { goodStack, previewStack, renderedConfig, renderedServer, vaultChart } from "./fixtures";
import { change, validateStack } from "./harness";

const withoutAudit = goodStack.filter((f) => f.type !== "vault:index/audit:Audit");
const withChart = (chart: typeof vaultChart) => goodStack.map((f) => (f.name === vaultChart.name ? chart : f));
const H = 'kubernetes:helm.sh/v4:Chart "platform-chart": ';

describe("environment detection", () => {
    it("reads the stack from a URN", () => {
        expect(stackFromUrn("urn:pulumi:prod-eu::vault-eso-platform::vault:index/audit:Audit::a")).toBe("prod-eu");
        expect(stackFromUrn("not-a-urn")).toBeUndefined();
    });

    it.each([
        ["dev", "dev"],
        ["dev-alice", "dev"],
        ["local", "dev"],
        ["prod", "prod"],
        ["production", "prod"],
        ["prod-eu", "prod"],
        ["staging", "other"],
        ["product", "other"],
        [undefined, "other"],
    ])("classifies stack %s as %s", (stack, env) => {
        expect(environmentOf(stack, new Map(), environmentDefaults)).toBe(env);
    });

    it("prefers config, then the environment stack tag", () => {
        expect(environmentOf("dev", new Map([["environment", "prod"]]), environmentDefaults)).toBe("prod");
        expect(environmentOf("dev", new Map([["environment", "prod"]]), { ...environmentDefaults, environment: "dev" })).toBe("dev");
    });
});

describe("vault-audit-device", () => {
    it.each(["prod", "staging"])("accepts %s with an audit device", async (stack) => {
        expect(await validateStack(vaultAuditEnabled, goodStack, { stack })).toEqual({ violations: [] });
    });

    it("does not apply to dev stacks", async () => {
        expect(await validateStack(vaultAuditEnabled, withoutAudit, { stack: "dev" })).toEqual({ violations: [], notApplicable: 'stack "dev" is a dev stack' });
    });

    it.each([
        ["prod", "prod"],
        ["staging", "other"],
    ])("flags %s without an audit device", async (stack, env) => {
        expect((await validateStack(vaultAuditEnabled, withoutAudit, { stack })).violations).toEqual([
            `Stack "${stack}" (environment ${env}) declares no vault:index/audit:Audit and no audit block in the chart's server HCL: ` +
                "Vault requests are not audited. Fix: keep vaultAudit true (vault.Audit for HashiCorp Vault; the HCL block for OpenBao in chart mode); " +
                "an external OpenBao declares its audit device in its own configuration, which this pack cannot see: set this rule's environment to dev for that stack.",
        ]);
    });

    // OpenBao refuses API audit devices: the program declares one in the server HCL instead.
    const auditBlock = 'audit "file" "stdout" {\n  options {\n    file_path = "/dev/stdout"\n  }\n}\n';
    const raftConfig = "values.server.ha.raft.config";

    it("accepts an OpenBao audit block in the chart's server HCL (values, as under mocks)", async () => {
        const chart = change(vaultChart, raftConfig, `ui = false\n${auditBlock}storage "raft" {}\n`);
        const stack = withoutAudit.map((f) => (f.name === vaultChart.name ? chart : f));
        expect(await validateStack(vaultAuditEnabled, stack, { stack: "prod" })).toEqual({ violations: [] });
    });

    it("accepts an OpenBao audit block in the rendered config (a real preview of a v4 Chart)", async () => {
        const config = change(renderedConfig, ["data", "extraconfig-from-values.hcl"], `${auditBlock}storage "raft" {}\n`);
        const stack = [...previewStack.filter((f) => f.type !== "vault:index/audit:Audit" && f.name !== renderedConfig.name), config];
        expect(await validateStack(vaultAuditEnabled, stack, { stack: "prod" })).toEqual({ violations: [] });
    });

    it("does not take a mention of audit in a comment or another block for an audit device", async () => {
        const chart = change(vaultChart, raftConfig, '# audit "file" "x" {} is planned\nstorage "raft" { path = "/audit" }\n');
        const stack = withoutAudit.map((f) => (f.name === vaultChart.name ? chart : f));
        expect((await validateStack(vaultAuditEnabled, stack, { stack: "prod" })).violations).toHaveLength(1);
    });

    it("uses the environment from config", async () => {
        expect((await validateStack(vaultAuditEnabled, withoutAudit, { stack: "prod", config: { environment: "dev" } })).notApplicable).toBe(
            'stack "prod" is a dev stack',
        );
        expect((await validateStack(vaultAuditEnabled, withoutAudit, { stack: "dev", config: { environment: "prod" } })).violations).toHaveLength(1);
    });
});

describe("vault-prod-ha", () => {
    it("accepts the HA raft chart in prod", async () => {
        expect(await validateStack(vaultProdHa, goodStack, { stack: "prod" })).toEqual({ violations: [] });
    });

    it("accepts unset replicas (the chart default is 3)", async () => {
        expect((await validateStack(vaultProdHa, withChart(change(vaultChart, "values.server.ha.replicas", undefined)), { stack: "prod" })).violations).toEqual([]);
    });

    it("does not apply to dev stacks", async () => {
        const standalone = change(vaultChart, "values.server.ha", { enabled: false });
        expect((await validateStack(vaultProdHa, withChart(standalone), { stack: "dev" })).notApplicable).toBe('stack "dev" is a dev stack');
    });

    it("does not apply without a Vault chart (external Vault)", async () => {
        const stack = goodStack.filter((f) => f !== vaultChart);
        expect((await validateStack(vaultProdHa, stack, { stack: "prod" })).notApplicable).toBe(
            'no Vault/OpenBao chart matching /(^|/)(vault|openbao)$/ in stack "prod"',
        );
    });

    it("flags a standalone Vault in prod", async () => {
        const standalone = change(vaultChart, "values.server.ha", { enabled: false });
        expect((await validateStack(vaultProdHa, withChart(standalone), { stack: "prod" })).violations).toEqual([
            H + 'server.ha.enabled is false in the prod stack "prod". Fix: set server.ha.enabled to true.',
            H + 'server.ha.raft.enabled is <unset> in the prod stack "prod". Fix: set server.ha.raft.enabled to true (integrated storage).',
        ]);
    });

    it("flags HA without raft", async () => {
        const chart = change(vaultChart, "values.server.ha.raft.enabled", false);
        expect((await validateStack(vaultProdHa, withChart(chart), { stack: "prod" })).violations).toEqual([
            H + 'server.ha.raft.enabled is false in the prod stack "prod". Fix: set server.ha.raft.enabled to true (integrated storage).',
        ]);
    });

    it("flags fewer than 3 replicas", async () => {
        const chart = change(vaultChart, "values.server.ha.replicas", 2);
        expect((await validateStack(vaultProdHa, withChart(chart), { stack: "prod" })).violations).toEqual([
            H +
                'server.ha.replicas is 2 in the prod stack "prod"; raft needs 3 voters to survive losing one. Fix: set server.ha.replicas to 3 or more (odd).',
        ]);
    });

    it("flags dev mode outside dev, without requiring HA outside prod", async () => {
        const chart = change(change(vaultChart, "values.server.dev.enabled", true), "values.server.ha", { enabled: false });
        expect((await validateStack(vaultProdHa, withChart(chart), { stack: "staging" })).violations).toEqual([
            H + 'server.dev.enabled is true in stack "staging" (environment other); dev mode keeps data in memory and uses root token "root". Fix: remove server.dev.enabled.',
        ]);
    });
});

describe("vault-prod-ha on what a real preview shows (rendered chart objects)", () => {
    const R = 'kubernetes:apps/v1:StatefulSet "platform-chart:vault/vault": ';
    const withServer = (server: typeof renderedServer, config: typeof renderedConfig | null = renderedConfig) =>
        [...previewStack.filter((f) => f !== renderedServer && f !== renderedConfig), server, ...(config ? [config] : [])];

    it("accepts three raft replicas", async () => {
        expect(await validateStack(vaultProdHa, previewStack, { stack: "prod" })).toEqual({ violations: [] });
    });

    it("flags a single replica", async () => {
        const found = await validateStack(vaultProdHa, withServer(change(renderedServer, "spec.replicas", 1)), { stack: "prod" });
        expect(found.violations).toEqual([
            R +
                'runs 1 replica(s) in the prod stack "prod"; raft needs 3 voters to survive losing one. Fix: set chart values server.ha.enabled true and server.ha.replicas to 3 or more.',
        ]);
    });

    it("counts an unset replicas as Kubernetes' default of 1", async () => {
        const found = await validateStack(vaultProdHa, withServer(change(renderedServer, "spec.replicas", undefined)), { stack: "prod" });
        expect(found.violations).toHaveLength(1);
    });

    it("flags file storage", async () => {
        const config = change(renderedConfig, ["data", "extraconfig-from-values.hcl"], 'storage "file" {\n  path = "/vault/data"\n}\n');
        const found = await validateStack(vaultProdHa, withServer(renderedServer, config), { stack: "prod" });
        expect(found.violations).toEqual([
            R + 'has no integrated raft storage in the prod stack "prod" (server config uses another storage). Fix: set chart values server.ha.raft.enabled true with a storage "raft" config.',
        ]);
    });

    it("flags a server whose config is not rendered", async () => {
        const found = await validateStack(vaultProdHa, withServer(renderedServer, null), { stack: "prod" });
        expect(found.violations).toEqual([
            R + 'has no integrated raft storage in the prod stack "prod" (server config not found). Fix: set chart values server.ha.raft.enabled true with a storage "raft" config.',
        ]);
    });

    it("flags dev mode outside dev", async () => {
        const dev = change(renderedServer, "spec.template.spec.containers.0.args", ["/usr/local/bin/docker-entrypoint.sh vault server -dev "]);
        const found = await validateStack(vaultProdHa, withServer(dev), { stack: "staging" });
        expect(found.violations).toEqual([
            R +
                'runs "vault server -dev" in stack "staging" (environment other); dev mode keeps data in memory and uses root token "root". Fix: remove server.dev.enabled from the chart values.',
        ]);
    });

    it("ignores StatefulSets of other apps", async () => {
        const other = change(renderedServer, "metadata.labels", { "app.kubernetes.io/name": "postgres" });
        expect((await validateStack(vaultProdHa, [other], { stack: "prod" })).notApplicable).toBe(
            'no Vault/OpenBao chart matching /(^|/)(vault|openbao)$/ in stack "prod"',
        );
    });
});

describe("vault-prod-auto-unseal", () => {
    const raftConfig = "values.server.ha.raft.config";
    const shamirHcl = 'ui = false\nstorage "raft" {}\n';
    const noSealChart = change(vaultChart, raftConfig, shamirHcl);
    const shamir = withChart(noSealChart);
    const init = { type: "pulumi-nodejs:dynamic/vault:VaultInit", name: "platform-init", props: { secretShares: 5, secretThreshold: 3 } };
    const shamirMessage =
        'Stack "prod" (environment prod) seals Vault with Shamir keys that init returns in plaintext: every pod restart waits for someone to run `pulumi up`. ' +
        'Fix: set vaultSeal to an auto-unseal seal (transit, awskms, gcpckms, azurekeyvault; README "Day 2"), or give init PGP keys.';

    it("accepts the known-good prod stack: its server HCL has a transit seal", async () => {
        expect(await validateStack(vaultProdAutoUnseal, goodStack, { stack: "prod" })).toEqual({ violations: [] });
    });

    it("accepts the seal in the rendered config (a real preview of a v4 Chart)", async () => {
        expect(await validateStack(vaultProdAutoUnseal, previewStack, { stack: "prod" })).toEqual({ violations: [] });
    });

    it("flags Shamir in prod (the chart's HCL without a seal stanza)", async () => {
        expect((await validateStack(vaultProdAutoUnseal, shamir, { stack: "prod" })).violations).toEqual([shamirMessage]);
    });

    it("flags Shamir in the rendered config", async () => {
        const config = change(renderedConfig, ["data", "extraconfig-from-values.hcl"], shamirHcl);
        const stack = previewStack.map((f) => (f.name === renderedConfig.name ? config : f));
        expect((await validateStack(vaultProdAutoUnseal, stack, { stack: "prod" })).violations).toEqual([shamirMessage]);
    });

    it("flags a seal type that is not auto-unseal, and a commented-out stanza", async () => {
        const shamirStanza = withChart(change(vaultChart, raftConfig, 'seal "shamir" {}\nstorage "raft" {}\n'));
        expect((await validateStack(vaultProdAutoUnseal, shamirStanza, { stack: "prod" })).violations[0]).toContain('seals Vault with "shamir"');
        const commented = withChart(change(vaultChart, raftConfig, `# seal "transit" {}\n${shamirHcl}`));
        expect((await validateStack(vaultProdAutoUnseal, commented, { stack: "prod" })).violations).toEqual([shamirMessage]);
    });

    it("accepts PGP-encrypted Shamir keys unless allowPgpKeys is false", async () => {
        const pgp = [...shamir, { ...init, props: { ...init.props, pgpKeys: ["keybase:a", "keybase:b", "keybase:c", "keybase:d", "keybase:e"] } }];
        expect(await validateStack(vaultProdAutoUnseal, pgp, { stack: "prod" })).toEqual({ violations: [] });
        expect((await validateStack(vaultProdAutoUnseal, pgp, { stack: "prod", config: { allowPgpKeys: false } })).violations).toHaveLength(1);
        expect((await validateStack(vaultProdAutoUnseal, [...shamir, { ...init, props: { ...init.props, pgpKeys: [] } }], { stack: "prod" })).violations).toEqual([shamirMessage]);
    });

    it("the accepted seal types are configurable", async () => {
        expect((await validateStack(vaultProdAutoUnseal, goodStack, { stack: "prod", config: { autoUnsealTypes: ["awskms"] } })).violations[0]).toContain('seals Vault with "transit"');
    });

    it("does not apply outside prod, or without a chart (external Vault: the seal is the server's)", async () => {
        expect((await validateStack(vaultProdAutoUnseal, shamir, { stack: "staging" })).notApplicable).toBe('stack "staging" is not a prod stack (environment other)');
        expect((await validateStack(vaultProdAutoUnseal, shamir, { stack: "prod", config: { environment: "dev" } })).notApplicable).toBe('stack "prod" is not a prod stack (environment dev)');
        const external = goodStack.filter((f) => f !== vaultChart);
        expect((await validateStack(vaultProdAutoUnseal, external, { stack: "prod" })).notApplicable).toMatch(/^no Vault\/OpenBao chart matching .* the seal is configured on the server$/);
    });
});

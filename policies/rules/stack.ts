// Rule 7: stack-level Vault posture per environment: audit on outside dev, HA raft in prod.
import { PolicyResource, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { Environment, EnvironmentConfig, environmentDefaults, environmentOf, environmentSchema, stackFromUrn } from "../lib/env";
import { renderedVaultServers } from "../lib/rendered";
import { UNKNOWN, config, get, message, num, show } from "../lib/props";
import { VaultChartConfig, isVaultChart, vaultChartDefaults, vaultChartSchema } from "./exposure";

export const AUDIT_TYPE = "vault:index/audit:Audit";

/** The chart's own default for server.ha.replicas (hashicorp/vault and openbao charts). */
export const CHART_DEFAULT_HA_REPLICAS = 3;

type StackConfig = EnvironmentConfig & VaultChartConfig;
const stackDefaults: StackConfig = { ...environmentDefaults, ...vaultChartDefaults };

function stackContext(args: StackValidationArgs): { stack: string | undefined; env: Environment; cfg: StackConfig } {
    const cfg = config(stackDefaults, args.getConfig());
    const stack = args.resources.map((r) => stackFromUrn(r.urn)).find((s) => s !== undefined);
    return { stack, env: environmentOf(stack, args.stackTags, cfg), cfg };
}

function vaultCharts(args: StackValidationArgs, cfg: StackConfig): PolicyResource[] {
    return args.resources.filter((r) => isVaultChart(r.type, r.props, cfg.vaultChartPattern));
}

const sharedSchema = { properties: { ...environmentSchema, ...vaultChartSchema } };

/** An `audit "<type>" "<path>" { ... }` block: OpenBao's declarative audit device. */
const AUDIT_HCL = /^\s*audit\s+"[^"]+"\s+"[^"]+"\s*\{/m;

/** Server HCL the chart is given (values, visible under mocks) or renders (its ConfigMap, real previews). */
function serverConfigs(args: StackValidationArgs, cfg: StackConfig): string[] {
    const fromValues = vaultCharts(args, cfg).flatMap((c) => [
        get(c.props, "values", "server", "standalone", "config"),
        get(c.props, "values", "server", "ha", "raft", "config"),
        get(c.props, "values", "server", "ha", "config"),
    ]);
    const rendered = renderedVaultServers(args.resources).map((s) => s.config);
    return [...fromValues, ...rendered].filter((c): c is string => typeof c === "string");
}

export const vaultAuditEnabled: StackValidationPolicy = {
    name: "vault-audit-device",
    description:
        "Outside dev stacks, Vault requests are audited: a vault.Audit resource (HashiCorp Vault), or an audit block in " +
        "the chart's server HCL (OpenBao, which refuses audit devices through the API).",
    configSchema: sharedSchema,
    validateStack: (args, reportViolation) => {
        const { stack, env, cfg } = stackContext(args);
        if (env === "dev") {
            args.notApplicable(`stack "${stack}" is a dev stack`);
        }
        if (args.resources.some((r) => r.type === AUDIT_TYPE)) {
            return;
        }
        if (serverConfigs(args, cfg).some((hcl) => AUDIT_HCL.test(hcl))) {
            return;
        }
        reportViolation(
            `Stack "${stack ?? "<unknown>"}" (environment ${env}) declares no ${AUDIT_TYPE} and no audit block in the chart's server HCL: ` +
                "Vault requests are not audited. Fix: keep vaultAudit true (vault.Audit for HashiCorp Vault; the HCL block for OpenBao in chart mode); " +
                "an external OpenBao declares its audit device in its own configuration, which this pack cannot see: set this rule's environment to dev for that stack.",
        );
    },
};

export const vaultProdHa: StackValidationPolicy = {
    name: "vault-prod-ha",
    description: `Prod stacks run Vault in HA with integrated raft storage and at least ${CHART_DEFAULT_HA_REPLICAS} replicas; non-dev stacks never use dev mode.`,
    configSchema: sharedSchema,
    validateStack: (args, reportViolation) => {
        const { stack, env, cfg } = stackContext(args);
        if (env === "dev") {
            args.notApplicable(`stack "${stack}" is a dev stack`);
        }
        // Chart inputs are visible under mocks and for v3 Releases; a real preview of a v4 Chart only
        // shows what it renders, so both are checked.
        const charts = vaultCharts(args, cfg);
        const servers = renderedVaultServers(args.resources);
        if (charts.length === 0 && servers.length === 0) {
            // External mode: Vault runs outside this program, so its HA is not this stack's to prove.
            args.notApplicable(`no Vault/OpenBao chart matching /${cfg.vaultChartPattern}/ in stack "${stack}"`);
        }
        for (const chart of charts) {
            const values = get(chart.props, "values");
            const report = (problem: string, fix: string) => reportViolation(message(chart.type, chart.name, problem, fix), chart.urn);
            if (get(values, "server", "dev", "enabled") === true) {
                report(`server.dev.enabled is true in stack "${stack}" (environment ${env}); dev mode keeps data in memory and uses root token "root"`, "remove server.dev.enabled");
            }
            if (env !== "prod") {
                continue;
            }
            const ha = get(values, "server", "ha", "enabled");
            const raft = get(values, "server", "ha", "raft", "enabled");
            if (ha !== true && ha !== UNKNOWN) {
                report(`server.ha.enabled is ${show(ha)} in the prod stack "${stack}"`, "set server.ha.enabled to true");
            }
            if (raft !== true && raft !== UNKNOWN) {
                report(`server.ha.raft.enabled is ${show(raft)} in the prod stack "${stack}"`, "set server.ha.raft.enabled to true (integrated storage)");
            }
            const rawReplicas = get(values, "server", "ha", "replicas");
            const replicas = rawReplicas === undefined ? CHART_DEFAULT_HA_REPLICAS : num(rawReplicas);
            if (rawReplicas !== UNKNOWN && (replicas === undefined || replicas < CHART_DEFAULT_HA_REPLICAS)) {
                report(
                    `server.ha.replicas is ${show(rawReplicas)} in the prod stack "${stack}"; raft needs ${CHART_DEFAULT_HA_REPLICAS} voters to survive losing one`,
                    `set server.ha.replicas to ${CHART_DEFAULT_HA_REPLICAS} or more (odd)`,
                );
            }
        }
        for (const server of servers) {
            const r = server.resource;
            const report = (problem: string, fix: string) => reportViolation(message(r.type, r.name, problem, fix), r.urn);
            if (server.devMode) {
                report(`runs "vault server -dev" in stack "${stack}" (environment ${env}); dev mode keeps data in memory and uses root token "root"`, "remove server.dev.enabled from the chart values");
            }
            if (env !== "prod") {
                continue;
            }
            if (server.replicas === undefined || server.replicas < CHART_DEFAULT_HA_REPLICAS) {
                report(
                    `runs ${show(server.replicas)} replica(s) in the prod stack "${stack}"; raft needs ${CHART_DEFAULT_HA_REPLICAS} voters to survive losing one`,
                    `set chart values server.ha.enabled true and server.ha.replicas to ${CHART_DEFAULT_HA_REPLICAS} or more`,
                );
            }
            if (server.config === undefined || !/storage\s+"raft"/.test(server.config)) {
                report(
                    `has no integrated raft storage in the prod stack "${stack}" (server config ${server.config === undefined ? "not found" : "uses another storage"})`,
                    'set chart values server.ha.raft.enabled true with a storage "raft" config',
                );
            }
        }
    },
};

/** A `seal "<type>" { ... }` stanza; "shamir" is the default, not an auto-unseal. */
const SEAL_HCL = /^\s*seal\s+"([a-z0-9]+)"\s*\{/gm;
const INIT_TYPE = "pulumi-nodejs:dynamic/vault:VaultInit";

export interface AutoUnsealConfig extends StackConfig {
    /** Seal types that count as auto-unseal. */
    autoUnsealTypes: string[];
    /** Accept Shamir keys that init returns PGP-encrypted (pgpKeys on the init resource) instead. */
    allowPgpKeys: boolean;
}

const autoUnsealDefaults: AutoUnsealConfig = {
    ...stackDefaults,
    autoUnsealTypes: ["transit", "awskms", "gcpckms", "azurekeyvault", "ocikms", "alicloudkms", "pkcs11", "kmip"],
    allowPgpKeys: true,
};

export const vaultProdAutoUnseal: StackValidationPolicy = {
    name: "vault-prod-auto-unseal",
    description:
        "Prod stacks do not depend on a person with Shamir keys after every pod restart: the chart's server HCL has an " +
        "auto-unseal seal (vaultSeal), or init hands out PGP-encrypted keys.",
    configSchema: {
        properties: {
            ...sharedSchema.properties,
            autoUnsealTypes: { type: "array", items: { type: "string" }, default: autoUnsealDefaults.autoUnsealTypes, description: "Seal types that count as auto-unseal." },
            allowPgpKeys: { type: "boolean", default: true, description: "Accept Shamir keys that init encrypts with PGP keys instead." },
        },
    },
    validateStack: (args, reportViolation) => {
        const cfg = config(autoUnsealDefaults, args.getConfig());
        const stack = args.resources.map((r) => stackFromUrn(r.urn)).find((s) => s !== undefined);
        const env = environmentOf(stack, args.stackTags, cfg);
        if (env !== "prod") {
            args.notApplicable(`stack "${stack}" is not a prod stack (environment ${env})`);
        }
        const configs = serverConfigs(args, cfg);
        if (configs.length === 0) {
            // External mode: the seal is the server's own configuration, which this pack cannot see.
            args.notApplicable(`no Vault/OpenBao chart matching /${cfg.vaultChartPattern}/ in stack "${stack}": the seal is configured on the server`);
        }
        const seals = configs.flatMap((hcl) => [...hcl.matchAll(SEAL_HCL)].map((m) => m[1]));
        if (seals.some((s) => cfg.autoUnsealTypes.includes(s))) {
            return;
        }
        const pgp = args.resources.some((r) => r.type === INIT_TYPE && Array.isArray(get(r.props, "pgpKeys")) && (get(r.props, "pgpKeys") as unknown[]).length > 0);
        if (cfg.allowPgpKeys && pgp) {
            return;
        }
        reportViolation(
            `Stack "${stack ?? "<unknown>"}" (environment ${env}) seals Vault with ${seals.length ? seals.map((s) => `"${s}"`).join(", ") : "Shamir keys"}` +
                `${cfg.allowPgpKeys ? " that init returns in plaintext" : ""}: every pod restart waits for someone to run \`pulumi up\`. ` +
                `Fix: set vaultSeal to an auto-unseal seal (${cfg.autoUnsealTypes.slice(0, 4).join(", ")}; README "Day 2")` +
                `${cfg.allowPgpKeys ? ", or give init PGP keys" : ""}.`,
        );
    },
};

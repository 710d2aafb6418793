// The local fleet: the local stack's OpenBao and control plane as the hub, plus one loopback control
// plane per spoke (its own etcd, kube-apiserver, kube-controller-manager and ESO controller on free
// ports, under <dir>/spokes/<name>/). All stacks share the hub's file backend; a fleet file
// (<dir>/fleet.yaml) lists them for `npm run fleet`.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import yaml from "js-yaml";
import { STACK, allocateState, paths, repoRoot } from "./base.mjs";
import { startControlPlane } from "./controlPlane.mjs";
import { prepareEsoChart, startEsoSupervisor } from "./eso.mjs";
import { makePki } from "./pki.mjs";
import { stopAll } from "./process.mjs";
import { initStackOutsideCheckout, pulumiEnv } from "./pulumi.mjs";

export const FLEET_SPOKES = ["eu-1", "us-1", "ap-1"];
export const spokeDir = (dir, name) => path.join(dir, "spokes", name);
export const spokeStack = (name) => `spoke-${name}`;
export const fleetFile = (dir) => path.join(dir, "fleet.yaml");
const NS = "vault-eso-platform";

/** What a local spoke stack declares: its default tenant and one more, below its own prefix. */
export function spokeConfig(dir, name, st) {
    const d = spokeDir(dir, name);
    return {
        [`${NS}:environment`]: `local-${name}`,
        [`${NS}:vaultMode`]: "spoke",
        [`${NS}:spokeName`]: name,
        [`${NS}:hubStack`]: `organization/${NS}/${STACK}`,
        [`${NS}:kubernetesHost`]: `https://127.0.0.1:${st.apiPort}`,
        [`${NS}:kubernetesCaCert`]: fs.readFileSync(path.join(paths(d).certs, "ca.crt"), "utf8"),
        [`${NS}:esoChartPath`]: paths(d).esoChart,
        "kubernetes:kubeconfig": paths(d).kubeconfig,
        // As the local stack (Pulumi.local.yaml): ESO runs on the host, short refresh for the checks.
        [`${NS}:esoWebhook`]: false,
        [`${NS}:esoCertController`]: false,
        [`${NS}:esoSkipAwait`]: true,
        [`${NS}:refreshInterval`]: "10s",
        [`${NS}:esoTokenTtl`]: "15m",
        [`${NS}:esoTokenMaxTtl`]: "1h",
        [`${NS}:registryPullSecret`]: false,
        [`${NS}:appSecrets`]: [{ name: "app-password", path: `spokes/${name}/demo-external-secrets/app`, keys: ["password"] }],
        [`${NS}:tenants`]: [{ name: "team-a", secrets: [{ name: "team-a-db", path: `spokes/${name}/team-a/db`, keys: ["username", "password"] }] }],
    };
}

/** A spoke's plane (etcd, apiserver, controller manager, ESO supervisor) and its stack's config file. */
export async function bringUpSpoke(dir, name) {
    const d = spokeDir(dir, name);
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    const st = await allocateState(d);
    makePki(d);
    await startControlPlane(d, st);
    prepareEsoChart(d);
    const cfgFile = path.join(dir, `Pulumi.${spokeStack(name)}.yaml`);
    await initStackOutsideCheckout(dir, { stack: spokeStack(name), cfgFile, env: pulumiEnv(dir) });
    const salt = fs.readFileSync(cfgFile, "utf8").match(/^encryptionsalt:.*$/m)[0];
    fs.writeFileSync(cfgFile, `# Local spoke ${name} (scripts/local/lib/fleet.mjs)\n${salt}\n${yaml.dump({ config: spokeConfig(dir, name, st) }, { lineWidth: -1 })}`);
    startEsoSupervisor(d);
    return { dir: d, st, stack: spokeStack(name), cfgFile };
}

export const shardStack = (name) => `shard-${name}`;

/**
 * A tenant shard of the local stack (docs/tenant-shards.md): a spoke stack on the hub's own plane
 * (`tenantShard`), its tenants served by the hub's ESO controller. Reads the hub's API server and CA
 * from the hub's config file in the data dir. `tenants`: the stack's `tenants` (KV below
 * `spokes/<name>/<namespace>/`). Returns { stack, cfgFile, args } (args: --stack and --config-file).
 */
export async function initShard(dir, name, tenants) {
    const hubCfg = yaml.load(fs.readFileSync(paths(dir).stackConfig, "utf8")).config;
    const cfgFile = path.join(dir, `Pulumi.${shardStack(name)}.yaml`);
    await initStackOutsideCheckout(dir, { stack: shardStack(name), cfgFile, env: pulumiEnv(dir) });
    const salt = fs.readFileSync(cfgFile, "utf8").match(/^encryptionsalt:.*$/m)[0];
    const config = {
        [`${NS}:environment`]: `local-shard-${name}`,
        [`${NS}:vaultMode`]: "spoke",
        [`${NS}:tenantShard`]: true,
        [`${NS}:spokeName`]: name,
        [`${NS}:hubStack`]: `organization/${NS}/${STACK}`,
        // The hub's Vault runs on the host: it reviews tokens at the plane's loopback API server.
        [`${NS}:kubernetesHost`]: hubCfg[`${NS}:kubernetesHost`],
        [`${NS}:kubernetesCaCert`]: hubCfg[`${NS}:kubernetesCaCert`],
        "kubernetes:kubeconfig": paths(dir).kubeconfig,
        [`${NS}:refreshInterval`]: hubCfg[`${NS}:refreshInterval`] ?? "10s",
        [`${NS}:esoTokenTtl`]: "15m",
        [`${NS}:esoTokenMaxTtl`]: "1h",
        [`${NS}:tenants`]: tenants,
    };
    fs.writeFileSync(cfgFile, `# Local tenant shard ${name} (scripts/local/lib/fleet.mjs)\n${salt}\n${yaml.dump({ config }, { lineWidth: -1 })}`);
    return { stack: shardStack(name), cfgFile, args: ["--stack", shardStack(name), "--config-file", cfgFile] };
}

/** Rewrites a shard's `tenants` in its config file (the salt and every other key kept). */
export function setShardTenants(dir, name, tenants) {
    const cfgFile = path.join(dir, `Pulumi.${shardStack(name)}.yaml`);
    const text = fs.readFileSync(cfgFile, "utf8");
    const doc = yaml.load(text);
    doc.config[`${NS}:tenants`] = tenants;
    const head = text.split("\n").filter((l) => l.startsWith("#") || l.startsWith("encryptionsalt:")).join("\n");
    fs.writeFileSync(cfgFile, `${head}\n${yaml.dump({ config: doc.config }, { lineWidth: -1 })}`);
}

/**
 * The fleet file of the local fleet: hub stack "local", one spoke stack per plane, one per tenant
 * shard (`shards`: their names, stacks from initShard); `project`: the program's folder (an older
 * program's for upgrade checks).
 */
export function writeFleetFile(dir, names, { project = repoRoot, shards = [] } = {}) {
    const file = fleetFile(dir);
    const policyConfig = path.join(repoRoot, "policies", "config", `${STACK}.json`);
    const doc = {
        backend: `file://${paths(dir).state}`,
        project,
        configDir: dir,
        hub: { stack: STACK },
        spokes: [...names.map((name) => ({ name, stack: spokeStack(name), policyConfig })), ...shards.map((name) => ({ name, stack: shardStack(name), policyConfig }))],
    };
    fs.writeFileSync(file, `# The local fleet (npm run local -- --fleet): the hub is the local stack.\n${yaml.dump(doc, { lineWidth: -1 })}`);
    return file;
}

/** Spoke planes found under the data dir (for --down). */
export function spokeDirs(dir) {
    const root = path.join(dir, "spokes");
    return fs.existsSync(root) ? fs.readdirSync(root).map((n) => path.join(root, n)) : [];
}

export async function stopSpokes(dir) {
    for (const d of spokeDirs(dir)) await stopAll(d);
}

/**
 * `npm run fleet -- <op> --file <dir>/fleet.yaml --json <report>` as a user runs it, with the local
 * backend's environment. Resolves { code, stdout, report } (report: the runner's --json, if written).
 */
export function fleetCli(dir, op, { parallel = 3, echo = true, extra = [] } = {}) {
    const reportFile = path.join(dir, `fleet-${op}-${Date.now()}.json`);
    return new Promise((resolve) => {
        let stdout = "";
        const args = [path.join(repoRoot, "scripts", "fleet.mjs"), op, "--file", fleetFile(dir), "--parallel", String(parallel), "--json", reportFile, ...extra];
        const child = spawn(process.execPath, args, { cwd: repoRoot, env: pulumiEnv(dir) });
        const take = (d) => {
            stdout += d;
            if (echo) process.stdout.write(d);
        };
        child.stdout.on("data", take);
        child.stderr.on("data", take);
        child.on("close", (code) => {
            const report = fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, "utf8")) : undefined;
            fs.rmSync(reportFile, { force: true });
            resolve({ code, stdout, report });
        });
    });
}

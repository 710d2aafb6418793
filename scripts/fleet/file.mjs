// The fleet file: which stacks make a fleet (one hub, its spokes), where their config files are and
// which policy pack checks them. Every problem is reported at once, before any stack is touched.
//
//   backend: file:///srv/pulumi-state   # optional: PULUMI_BACKEND_URL for every stack (default: your login)
//   project: ..                         # the Pulumi project dir (default: this repository)
//   configDir: ..                       # where Pulumi.<stack>.yaml are (default: the project dir)
//   policyPack: ../policies             # run on every stack (default: <project>/policies)
//   hub:
//     stack: dev                        # a stack of this program in chart or external mode
//   spokes:                             # each a stack in vaultMode spoke whose spokeName is its name
//     - name: eu-1
//       stack: dev-eu-1                 # default: the name
//       kvPrefix: spokes/eu-1           # default: spokes/<name> (the hub's spokes entry)
// Relative paths are relative to the fleet file. A stack's policy config is
// <policyPack>/config/<stack>.json when that file exists (or `policyConfig:` on the stack).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const STACK_NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+){0,2}$/;

export class FleetFileError extends Error {
    constructor(file, problems) {
        super(`Invalid fleet file ${file} (${problems.length} problem${problems.length === 1 ? "" : "s"}); no stack was touched:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.problems = problems;
    }
}

/** Reads and validates a fleet file; resolves paths. Throws FleetFileError listing every problem. */
export function loadFleet(file) {
    const problems = [];
    let raw;
    try {
        raw = yaml.load(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new FleetFileError(file, [e.code === "ENOENT" ? `no such file; pass --file <fleet file> (see README "Fleets")` : `not YAML: ${e.message.split("\n")[0]}`]);
    }
    if (!raw || typeof raw !== "object") throw new FleetFileError(file, ["must be a mapping with hub and spokes"]);
    const base = path.dirname(path.resolve(file));
    const rel = (p) => path.resolve(base, p);
    for (const k of Object.keys(raw)) if (!["backend", "project", "configDir", "policyPack", "hub", "spokes"].includes(k)) problems.push(`${k}: unknown key; a fleet file has backend, project, configDir, policyPack, hub, spokes`);
    const projectDir = typeof raw.project === "string" ? rel(raw.project) : repoRoot;
    if (!fs.existsSync(path.join(projectDir, "Pulumi.yaml"))) problems.push(`project: ${projectDir} has no Pulumi.yaml`);
    const configDir = typeof raw.configDir === "string" ? rel(raw.configDir) : projectDir;
    const policyPack = typeof raw.policyPack === "string" ? rel(raw.policyPack) : path.join(projectDir, "policies");
    if (!fs.existsSync(path.join(policyPack, "PulumiPolicy.yaml"))) problems.push(`policyPack: ${policyPack} has no PulumiPolicy.yaml`);
    if (raw.backend !== undefined && (typeof raw.backend !== "string" || !/^[a-z0-9]+:\/\//.test(raw.backend))) problems.push(`backend: "${raw.backend}" is not a backend URL (file://..., s3://..., https://api.pulumi.com)`);

    const stackOf = (at, entry, fallback) => {
        const stack = entry?.stack ?? fallback;
        if (typeof stack !== "string" || !STACK_NAME.test(stack)) {
            problems.push(`${at}.stack: ${JSON.stringify(stack)} is not a stack name`);
            return { stack: String(stack) };
        }
        const short = stack.split("/").pop();
        const configFile = path.join(configDir, `Pulumi.${short}.yaml`);
        if (!fs.existsSync(configFile)) problems.push(`${at}.stack: ${stack} has no config file ${configFile}`);
        let policyConfig = path.join(policyPack, "config", `${short}.json`);
        if (typeof entry?.policyConfig === "string") {
            policyConfig = rel(entry.policyConfig);
            if (!fs.existsSync(policyConfig)) problems.push(`${at}.policyConfig: no such file ${policyConfig}`);
        } else if (!fs.existsSync(policyConfig)) policyConfig = undefined;
        return { stack, configFile, policyConfig };
    };

    if (!raw.hub || typeof raw.hub !== "object") problems.push("hub: required, e.g. `hub: {stack: dev}`");
    const hub = { role: "hub", ...(raw.hub && typeof raw.hub === "object" ? stackOf("hub", raw.hub, undefined) : { stack: "" }) };
    for (const k of Object.keys(raw.hub ?? {})) if (!["stack", "policyConfig"].includes(k)) problems.push(`hub.${k}: unknown key; the hub takes stack and policyConfig`);

    const list = raw.spokes ?? [];
    if (!Array.isArray(list)) problems.push("spokes: must be a list of {name, stack?, kvPrefix?}");
    const spokes = (Array.isArray(list) ? list : []).map((entry, i) => {
        const at = `spokes[${i}]`;
        const name = entry?.name;
        if (typeof name !== "string" || !DNS_LABEL.test(name) || name.length > 40) problems.push(`${at}.name: ${JSON.stringify(name)} must be a DNS label of at most 40 characters (it names the spoke's auth mount and policies)`);
        for (const k of Object.keys(entry ?? {})) if (!["name", "stack", "kvPrefix", "policyConfig"].includes(k)) problems.push(`${at}.${k}: unknown key; a spoke takes name, stack, kvPrefix and policyConfig`);
        if (entry?.kvPrefix !== undefined && (typeof entry.kvPrefix !== "string" || !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(entry.kvPrefix))) problems.push(`${at}.kvPrefix: ${JSON.stringify(entry.kvPrefix)} is not a KV path`);
        return { role: "spoke", name: String(name), kvPrefix: entry?.kvPrefix, ...stackOf(at, entry, name) };
    });
    const seen = new Map();
    for (const [i, s] of spokes.entries()) {
        if (seen.has(s.name)) problems.push(`spokes[${i}].name: "${s.name}" is also spokes[${seen.get(s.name)}]; spoke names are unique`);
        seen.set(s.name, i);
        if (s.stack === hub.stack || spokes.slice(0, i).some((o) => o.stack === s.stack)) problems.push(`spokes[${i}].stack: ${s.stack} is already used in this fleet; every spoke has its own stack`);
    }
    if (!problems.length) problems.push(...sharedClusterProblems(projectDir, hub, spokes));
    if (problems.length) throw new FleetFileError(file, problems);
    return { file: path.resolve(file), backend: raw.backend, projectDir, configDir, policyPack, hub, spokes };
}

/**
 * Tenant shards (spokes with tenantShard: true) live in the hub's cluster, so their tenant
 * namespaces and the hub's (its default tenant, tenants, Vault and ESO namespaces) must all differ:
 * no single stack sees the others' config, and a duplicate would otherwise fail at the second
 * stack's create, after the first had taken the namespace. Marks those spokes role "shard".
 */
function sharedClusterProblems(projectDir, hub, spokes) {
    const problems = [];
    let project, defaults;
    try {
        const doc = yaml.load(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"));
        project = doc.name;
        defaults = Object.fromEntries(Object.entries(doc.config ?? {}).map(([k, v]) => [k, v?.default]));
    } catch (e) {
        return [`project: ${projectDir}/Pulumi.yaml is not readable YAML: ${e.message.split("\n")[0]}`];
    }
    const configOf = (s, at) => {
        try {
            const cfg = yaml.load(fs.readFileSync(s.configFile, "utf8"))?.config ?? {};
            const value = (key) => cfg[`${project}:${key}`] ?? defaults[key];
            return { value };
        } catch (e) {
            problems.push(`${at}.stack: ${s.configFile} is not readable YAML: ${e.message.split("\n")[0]}`);
            return undefined;
        }
    };
    const owner = new Map(); // namespace -> where it is declared
    // The hub's own clashes are its program's to report (one stack sees them); here, the shards'.
    const claim = (ns, where, at) => {
        if (typeof ns !== "string" || !ns) return;
        if (owner.has(ns) && at !== "hub") problems.push(`${at}: ${where} uses namespace "${ns}", already used by ${owner.get(ns)}; tenant shards share the hub's cluster, so each namespace belongs to one stack: rename one`);
        else if (!owner.has(ns)) owner.set(ns, where);
    };
    const tenantsOf = (cfg) => {
        let list = cfg.value("tenants");
        // `pulumi config set tenants '[...]'` (without --path) stores the list as a JSON string.
        if (typeof list === "string") {
            try {
                list = JSON.parse(list);
            } catch {
                list = [];
            }
        }
        return (Array.isArray(list) ? list : []).map((t) => ({ name: t?.name, namespace: typeof t?.namespace === "string" ? t.namespace : t?.name }));
    };
    const hubCfg = configOf(hub, "hub");
    const shards = spokes.map((s, i) => ({ s, i, cfg: configOf(s, `spokes[${i}]`) })).filter(({ cfg }) => cfg && [true, "true"].includes(cfg.value("tenantShard")));
    for (const { s } of shards) s.role = "shard";
    if (!hubCfg || !shards.length) return problems;
    claim(hubCfg.value("vaultNamespace"), `the hub's vaultNamespace (stack ${hub.stack})`, "hub");
    claim(hubCfg.value("esoNamespace"), `the hub's esoNamespace (stack ${hub.stack})`, "hub");
    claim(hubCfg.value("appNamespace"), `the hub's default tenant (stack ${hub.stack})`, "hub");
    for (const t of tenantsOf(hubCfg)) claim(t.namespace, `the hub's tenant "${t.name}" (stack ${hub.stack})`, "hub");
    for (const { s, i, cfg } of shards) for (const t of tenantsOf(cfg)) claim(t.namespace, `tenant "${t.name}" of shard ${s.name} (stack ${s.stack})`, `spokes[${i}]`);
    return problems;
}

/** What the hub's `spokes` config must say for this fleet (the hub mints one token per entry). */
export function hubSpokesConfig(fleet) {
    return fleet.spokes.map((s) => ({ name: s.name, ...(s.kvPrefix ? { kvPrefix: s.kvPrefix } : {}), stack: s.stack }));
}

/** The config file of a stack of the fleet that is no longer in the file (a removed spoke). */
export function configFileOf(fleet, stack) {
    return path.join(fleet.configDir, `Pulumi.${stack.split("/").pop()}.yaml`);
}

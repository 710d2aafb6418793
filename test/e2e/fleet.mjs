// The fleet tier (`npm run test:e2e -- --fleet`): one OpenBao hub (the local stack on its loopback
// control plane) and 3 spokes, each a loopback control plane of its own (etcd, kube-apiserver,
// kube-controller-manager, the ESO controller; scripts/local/lib/fleet.mjs), driven by
// `npm run fleet` with the fleet file the local fleet writes. Checks (test/e2e/checks/fleet.mjs):
//   1 fleet up, everything synced   2 no-op preview and up   3 isolation and escalation (403s)
//   4 a spoke removed from the file   5 resealed hub: only its unseal   6 a failing spoke: exit 1,
//   the others run   7 fleet destroy   8 upgrade of a fleet deployed by the program from before the
//   hub owned its spokes' mounts and policies (checks/fleetUpgrade.mjs)   9 tenant shards: spoke stacks
//   in the hub's cluster; one more tenant changes its shard only (checks/shards.mjs)
// Without the provider plugins the tier says "not run" and why (exit 0). KEEP=1 keeps the data dir.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FLEET_SPOKES, Kube, bao, bringUp, bringUpSpoke, fleetCli, initShard, log, missingPlugins, paths, pulumi, pulumiEnv, restartBao, setShardTenants, spokeDir, spokeStack, tearDown, wipeBao, writeFleetFile } from "../../scripts/local/lib.mjs";
import { fleetDestroy, fleetFailure, fleetIsolation, fleetNoop, fleetRemoval, fleetReseal, fleetUp } from "./checks/fleet.mjs";
import { fleetUpgrade } from "./checks/fleetUpgrade.mjs";
import { fleetShards } from "./checks/shards.mjs";
import { Runner } from "./lib/runner.mjs";

const env0 = pulumiEnv(os.tmpdir());
const missing = missingPlugins(env0);
if (missing.length) {
    console.log(`tier fleet: not run: provider plugins missing (${missing.join(", ")}; tools/README.md "Provider plugins")`);
    process.exit(0);
}

const dir = fs.mkdtempSync(path.join(process.env.E2E_TMPDIR || os.tmpdir(), "vault-eso-fleet-"));
const runner = new Runner({ tier: "fleet (one OpenBao hub, 3 spoke control planes, npm run fleet)" });
const timings = {};
let spokes = [...FLEET_SPOKES];

const f = {
    dir,
    timings,
    get spokes() {
        return spokes;
    },
    stackOf: spokeStack,
    hubConfigFile: paths(dir).stackConfig,
    setSpokes(names) {
        spokes = names;
        writeFleetFile(dir, names);
    },
    bao: (method, p, body, token) => bao(dir, method, p, body, token),
    kube: (name) => Kube.admin(spokeDir(dir, name)),
    hubKube: () => Kube.admin(dir),
    initShard: (name, tenants) => initShard(dir, name, tenants),
    setShardTenants: (name, tenants) => setShardTenants(dir, name, tenants),
    async exportStack(stack) {
        const r = await pulumi(dir, ["stack", "export", "--stack", stack], { env: pulumiEnv(dir) });
        if (r.code !== 0) throw new Error(`stack export ${stack}: ${r.stderr.trim()}`);
        return JSON.parse(r.stdout);
    },
    async hubOutput(name) {
        const r = await pulumi(dir, ["stack", "output", name, "--show-secrets", "--json", "--stack", "local"], { env: pulumiEnv(dir) });
        if (r.code !== 0) throw new Error(`stack output ${name}: ${r.stderr.trim()}`);
        return JSON.parse(r.stdout);
    },
    tokens: () => f.hubOutput("spokeTokens"),
    /** Resources per stack of the fleet's backend (pulumi stack ls). */
    async resourceCounts() {
        const r = await pulumi(dir, ["stack", "ls", "--json"], { env: pulumiEnv(dir) });
        return Object.fromEntries(JSON.parse(r.stdout).map((s) => [s.name.split("/").pop(), s.resourceCount]));
    },
    adminToken: () => f.hubOutput("vaultAdminToken"),
    restartHub: () => restartBao(dir),
    /** The hub's OpenBao emptied (its stack must be destroyed first). */
    wipeHub: () => wipeBao(dir),
    writeFleetFile: (names, opts) => writeFleetFile(dir, names, opts),
    configFileOf: (name) => path.join(dir, `Pulumi.${spokeStack(name)}.yaml`),
    fleetCli: (op) => fleetCli(dir, op),
    /** `npm run fleet -- <op>` as a user runs it; its report (--json) and output. Throws on exit != 0. */
    async fleet(op) {
        const { code, stdout, report } = await fleetCli(dir, op);
        if (code !== 0) throw new Error(`npm run fleet -- ${op} exited ${code}: ${stdout.split("\n").filter((l) => /failed|error/.test(l)).slice(-4).join(" | ")}`);
        return { report, stdout };
    },
};

try {
    const t0 = Date.now();
    log(`fleet: hub (control plane + OpenBao) and spokes ${spokes.join(", ")} in ${dir}`);
    await bringUp(dir, { registryPassword: "fleet-e2e-registry" });
    for (const name of spokes) await bringUpSpoke(dir, name);
    writeFleetFile(dir, spokes);
    timings.setup = Date.now() - t0;
    log(`fleet infrastructure ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    await fleetUp(runner, f, 1);
    await fleetNoop(runner, f, 2);
    await fleetIsolation(runner, f, 3);
    await fleetRemoval(runner, f, 4, spokes[spokes.length - 1]);
    await fleetReseal(runner, f, 5);
    await fleetFailure(runner, f, 6, spokes[0]);
    await fleetDestroy(runner, f, 7);
    await fleetUpgrade(runner, f, 8);
    await fleetShards(runner, f, 9);
} catch (e) {
    runner.fail(0, "fleet setup", e);
} finally {
    if (process.env.KEEP === "1") log(`KEEP=1: fleet left running in ${dir} (stop: node scripts/local/up.mjs --fleet --down --force --dir ${dir})`);
    else await tearDown(dir);
}
console.log(`timings (ms): ${JSON.stringify(timings)}`);
process.exit(runner.summary());

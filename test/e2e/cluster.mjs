// The cluster tier (`npm run test:e2e -- --cluster`): the real engine deploys the program in chart
// mode onto a one-node cluster from parts (scripts/local/lib/cluster.mjs), with the program's
// defaults: the Vault chart's pods, external-secrets with its webhook and cert controller, the demo
// Deployment pulling from a private registry. Phases, each on a fresh cluster that `--down` removes:
//   standalone   vault-helm, one pod: checks 1-9, 13, 14, 28 (the tenant Secret guard); host restored (10)
//   ha           vault-helm, 3 raft replicas: failover (11); host restored (12)
//   transit      vault-helm HA with a transit seal server (auto-unseal): up, delete -> Ready with no
//                pulumi run, rolling restart under sync, no changes after, seal server outage (22-26); host (27)
//   first-ups    E2E_FIRST_UPS (5) fresh clusters, one first `pulumi up` each (15)
//   openbao      the openbao chart with an OpenBao image: up, sync, reseal (16-18); host restored (19)
//   openbao-ha   the openbao chart, 3 raft replicas: failover (20); host restored (21)
//   E2E_PHASES=standalone,ha   run only these phases; KEEP=1 leaves the first phase's cluster running
// Checks live in test/e2e/checks/ by concern; the runner is test/e2e/lib/runner.mjs.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bringUpCluster, clusterComponents, clusterPrerequisites, log, missingPlugins, pulumiEnv, tearDownCluster } from "../../scripts/local/lib.mjs";
import * as chart from "./checks/chart.mjs";
import { firstUpsNeverRaceWebhook, caInjected, webhookDenies } from "./checks/eso.mjs";
import { haFailover } from "./checks/ha.mjs";
import { autoUnsealAfterDelete, prepareTransit, rollingRestart, sealServerOutage, transitNoChanges, transitUp } from "./checks/seal.mjs";
import { downRestoresHost } from "./checks/host.mjs";
import { ClusterTest, secs } from "./lib/clusterTest.mjs";
import { Runner, Skip } from "./lib/runner.mjs";

const PHASES = ["standalone", "ha", "transit", "first-ups", "openbao", "openbao-ha"];
const phases = new Set((process.env.E2E_PHASES ?? PHASES.join(",")).split(",").map((p) => p.trim()).filter(Boolean));
for (const p of phases) if (!PHASES.includes(p)) throw new Error(`E2E_PHASES: unknown phase "${p}"; phases: ${PHASES.join(", ")}`);
const FIRST_UPS = Number(process.env.E2E_FIRST_UPS ?? 5);
const KEEP = process.env.KEEP === "1";

const root = fs.mkdtempSync(path.join(process.env.E2E_TMPDIR || os.tmpdir(), "vault-eso-cluster-"));
const registryPassword = randomBytes(18).toString("base64url");
const timings = {};
const runner = new Runner({ tier: "cluster (one-node cluster from parts, real pulumi up in chart mode)" });

/** A fresh cluster in its own data dir; the ClusterTest over it, with what ran. */
async function fresh(name, opts = {}) {
    const dir = path.join(root, name);
    const t0 = Date.now();
    const up = await bringUpCluster(dir, { registryPassword, ...opts });
    const t = new ClusterTest(dir, { registryPassword, release: opts.chartName ?? "vault", timings });
    t.env = pulumiEnv(dir);
    t.eso = up.eso;
    const missing = missingPlugins(t.env);
    if (missing.length) throw new Error(`provider plugins missing: ${missing.join(", ")} (tools/README.md "Provider plugins")`);
    timings[`${name}Setup`] = Date.now() - t0;
    log(`${name}: cluster ready in ${secs(Date.now() - t0)}: ${up.esoImage}, ${up.vaultServer.repository}:${up.vaultServer.tag}`);
    return t;
}

/** One phase: a fresh cluster, its checks, then --down (checked as `downN`). A failed bring-up fails the phase. */
async function phase(name, opts, checks, downN) {
    if (!phases.has(name)) return;
    log(`=== phase ${name}`);
    let t;
    try {
        t = await fresh(name, opts);
        await checks(t);
    } catch (e) {
        runner.fail(`${name}`, `phase ${name}`, e);
    }
    if (KEEP && t) {
        log(`KEEP=1: left the ${name} cluster running in ${t.dir} (stop with: npm run local -- --down --dir ${t.dir})`);
        process.exit(runner.summary());
    }
    await downRestoresHost(runner, t ?? { dir: path.join(root, name) }, downN);
}

const skipAll = (ns, why) => ns.forEach(([n, title]) => runner.check(n, title, async () => {
    throw new Skip(why);
}));

const missing = clusterPrerequisites();
// The provider plugins as `pulumi up` will look them up (the data dir only names the backend).
const plugins = missingPlugins(pulumiEnv(root));
if (plugins.length) missing.push(`provider plugins ${plugins.join(", ")} (tools/README.md "Provider plugins")`);
if (missing.length) {
    fs.rmSync(root, { recursive: true, force: true });
    console.log(`tier cluster: not run: missing ${missing.join("; ")}`);
    process.exit(process.argv.includes("--cluster-if-present") ? 0 : 1);
}

const what = clusterComponents();
log(`data dir ${root}`);
log(`tier: cluster (one-node cluster from parts, real pulumi up in chart mode): ${what.running.join("; ")}`);
log(what.fallbacks.length ? `fallbacks: ${what.fallbacks.join("; ")}` : "fallbacks: none (the program's defaults, every hand-built piece present)");

try {
    await phase("standalone", {}, async (t) => {
        await chart.policyPreview(runner, t, 1);
        await chart.upSealedThenReady(runner, t, 2);
        await chart.esoSyncs(runner, t, 3);
        await chart.secretGuard(runner, t, 28);
        await webhookDenies(runner, t, 13);
        await caInjected(runner, t, 14);
        await chart.leastPrivilege(runner, t, 4);
        await chart.demoPull(runner, t, 5);
        await chart.noChanges(runner, t, 6);
        await chart.resealDrill(runner, t, 7);
        await chart.exportClean(runner, t, 8);
        await chart.destroy(runner, t, 9);
    }, 10);
    await phase("ha", { ha: true }, (t) => haFailover(runner, t, 11), 12);
    // The openbao chart when present: its openbao-active Service selects the pods OpenBao labels, so
    // ESO talks to the active node (vault-helm's vault-active never selects the OpenBao stand-in).
    await phase("transit", { ha: true, chartName: what.openbaoChart ? "openbao" : "vault" }, async (t) => {
        await prepareTransit(t);
        await transitUp(runner, t, 22);
        await autoUnsealAfterDelete(runner, t, 23);
        await rollingRestart(runner, t, 24);
        await transitNoChanges(runner, t, 25);
        await sealServerOutage(runner, t, 26);
    }, 27);
    if (phases.has("first-ups")) {
        log(`=== phase first-ups (${FIRST_UPS} fresh clusters)`);
        await firstUpsNeverRaceWebhook(runner, 15, {
            count: FIRST_UPS,
            fresh: (i) => fresh(`first-up-${i}`),
            down: async (i) => (await tearDownCluster(path.join(root, `first-up-${i}`))).left,
        });
    }
    if (what.openbaoChart) {
        await phase("openbao", { chartName: "openbao" }, async (t) => {
            await chart.upSealedThenReady(runner, t, 16);
            await chart.esoSyncs(runner, t, 17);
            await chart.resealDrill(runner, t, 18);
        }, 19);
        await phase("openbao-ha", { chartName: "openbao", ha: true }, (t) => haFailover(runner, t, 20), 21);
    } else if (phases.has("openbao") || phases.has("openbao-ha")) {
        skipAll([[16, "openbao chart: up"], [17, "openbao chart: sync"], [18, "openbao chart: reseal"], [20, "openbao chart: HA"]], what.fallbacks.at(-1));
    }
} catch (e) {
    runner.fail(-1, "runner", { message: e.stack });
}
fs.rmSync(root, { recursive: true, force: true });
process.exit(runner.summary([`ran: ${what.running.join("; ")}`, `fallbacks: ${what.fallbacks.length ? what.fallbacks.join("; ") : "none"}`, `timings (ms): ${JSON.stringify(timings)}`]));

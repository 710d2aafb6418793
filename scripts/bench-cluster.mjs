#!/usr/bin/env node
// Chart-mode figures of `npm run bench` (also alone: node scripts/bench-cluster.mjs), on the
// one-node cluster from parts (scripts/local/lib/cluster.mjs), one run:
//   - `pulumi up` from empty -> every ExternalSecret Ready/SecretSynced (polled every 250 ms)
//   - vault-0 deleted -> back sealed -> `pulumi up` -> vault-0 Ready (unsealed), and up's own time
//   - then, on a second cluster with a transit seal (auto-unseal, HA 3 pods; the openbao chart where
//     it is cached): pod 0 deleted -> Ready with no `pulumi` run, and a rolling restart of the 3 pods
//     (standbys first, the active one after a step-down) with a value changing: time, sync errors
// Prints "chart mode: not measured: <why>" where the cluster tier's tools or chart are missing.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { Kube, bringUpCluster, cfgArgs, clusterPrerequisites, findOpenBaoChart, log, missingPlugins, pulumiEnv, pulumiOk, tearDownCluster, waitFor } from "./local/lib.mjs";
import { rollPods, prepareTransit } from "../test/e2e/checks/seal.mjs";
import { waitForVoters } from "../test/e2e/checks/ha.mjs";
import { ClusterTest } from "../test/e2e/lib/clusterTest.mjs";

const s = (ms) => `${(ms / 1000).toFixed(2)}s`;
const missing = clusterPrerequisites();
if (missing.length) {
    console.log(`chart mode: not measured: missing ${missing.join("; ")}`);
    process.exit(0);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-eso-bench-cluster-"));
const fig = {};
const ready = (p) => (p?.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
try {
    const t0 = Date.now();
    await bringUpCluster(dir, { registryPassword: randomBytes(18).toString("base64url") });
    fig.clusterSetup = Date.now() - t0;
    const env = pulumiEnv(dir);
    const gone = missingPlugins(env);
    if (gone.length) throw new Error(`provider plugins missing: ${gone.join(", ")}`);
    const kube = Kube.admin(dir);
    const allSynced = async () => {
        const items = (await kube.get("/apis/external-secrets.io/v1/namespaces/demo-external-secrets/externalsecrets")).json?.items ?? [];
        return items.length === 3 && items.every((i) => (i.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"));
    };
    const tUp = Date.now();
    const up = pulumiOk(dir, ["up", "--yes", "--skip-preview", ...cfgArgs(dir)], { env });
    let syncedAt;
    const poll = (async () => {
        while (!syncedAt) {
            if (await allSynced().catch(() => false)) syncedAt = Date.now();
            else await new Promise((r) => setTimeout(r, 250));
        }
    })();
    fig.chartUp = (await up).ms;
    await waitFor("every ExternalSecret synced", async () => syncedAt, { timeoutMs: 180000 });
    await poll;
    fig.chartUpToSynced = syncedAt - tUp;
    const pod = (await kube.get("/api/v1/namespaces/vault/pods/vault-0")).json;
    const tDel = Date.now();
    await kube.request("DELETE", "/api/v1/namespaces/vault/pods/vault-0", { gracePeriodSeconds: 0 });
    await waitFor("a new vault-0 Running", async () => {
        const p = (await kube.get("/api/v1/namespaces/vault/pods/vault-0")).json;
        return p?.metadata?.uid !== pod.metadata.uid && p?.status?.phase === "Running";
    }, { timeoutMs: 120000 });
    fig.podBack = Date.now() - tDel;
    const tReseal = Date.now();
    fig.resealUp = (await pulumiOk(dir, ["up", "--yes", "--skip-preview", ...cfgArgs(dir)], { env })).ms;
    await waitFor("vault-0 Ready", async () => ready((await kube.get("/api/v1/namespaces/vault/pods/vault-0")).json), { timeoutMs: 60000, intervalMs: 250 });
    fig.resealUpToReady = Date.now() - tReseal;
    fig.deleteToReady = Date.now() - tDel;
} catch (e) {
    fig.blocked = e.message.split("\n")[0];
} finally {
    if (process.env.KEEP !== "1") {
        const { left } = await tearDownCluster(dir);
        if (left.length) log(`host differs after teardown: ${left.join("; ")}`);
    }
}

// The same run, auto-unseal: a transit seal server (a second OpenBao on the node IP), HA 3 pods.
const tdir = `${dir}-transit`;
if (!fig.blocked && process.env.KEEP !== "1") {
    try {
        const chartName = findOpenBaoChart() ? "openbao" : "vault";
        const registryPassword = randomBytes(18).toString("base64url");
        await bringUpCluster(tdir, { registryPassword, ha: true, chartName });
        const t = new ClusterTest(tdir, { registryPassword, release: chartName });
        t.env = pulumiEnv(tdir);
        await prepareTransit(t);
        await t.POk(["up", "--yes", "--skip-preview", ...cfgArgs(tdir)]);
        const names = t.podNames(3);
        for (const n of names) await waitFor(`${n} Ready`, async () => ready(await t.pod("vault", n)), { timeoutMs: 120000 });
        await waitForVoters(t, await waitFor("an active pod", async () => {
            for (const n of names) if ((await t.health(n).catch(() => undefined))?.standby === false) return n;
            return undefined;
        }, { timeoutMs: 60000 }), await t.stackOutputSecret("vaultRecoveryKeys"));
        const old = await t.pod("vault", names[0]);
        const tDel = Date.now();
        await t.deletePod("vault", names[0]);
        await waitFor(`${names[0]} back and Ready`, async () => {
            const p = await t.pod("vault", names[0]);
            return p && p.metadata.uid !== old.metadata.uid && ready(p);
        }, { timeoutMs: 120000, intervalMs: 100 });
        fig.transitDeleteToReady = Date.now() - tDel;
        const roll = await rollPods(t);
        fig.rollingRestart = roll.ms;
        fig.rollingSyncErrors = roll.syncErrors.length;
        fig.rollingNotReady = roll.notReady.length;
    } catch (e) {
        fig.transitBlocked = e.message.split("\n")[0];
    } finally {
        const { left } = await tearDownCluster(tdir);
        if (left.length) log(`host differs after teardown: ${left.join("; ")}`);
    }
}
console.log("\n== bench, chart mode (one-node cluster from parts; one run; 2 shared cores)");
const line = (k, label) => fig[k] !== undefined && console.log(`${label.padEnd(58)} ${s(fig[k])}`);
line("clusterSetup", "cluster from parts up (before pulumi)");
line("chartUpToSynced", "chart mode: pulumi up from empty -> every ES synced");
line("chartUp", "chart mode: pulumi up's own time");
line("podBack", "vault-0 deleted -> new pod Running (sealed)");
line("resealUpToReady", "pulumi up -> vault-0 unsealed and Ready");
line("deleteToReady", "Shamir: vault-0 deleted -> Ready again (needs `pulumi up`)");
line("transitDeleteToReady", "transit seal: pod 0 deleted -> Ready again (no human)");
line("rollingRestart", "transit seal: rolling restart of 3 HA pods, total");
if (fig.rollingSyncErrors !== undefined) console.log(`${"transit seal: rolling restart, SecretSyncedError events".padEnd(58)} ${fig.rollingSyncErrors} (ExternalSecrets seen not Ready: ${fig.rollingNotReady})`);
if (fig.transitBlocked) console.log(`transit: NOT MEASURED: ${fig.transitBlocked}`);
if (fig.blocked) console.log(`NOT MEASURED: ${fig.blocked}`);
console.log(JSON.stringify(fig));
process.exit(fig.blocked || fig.transitBlocked ? 1 : 0);

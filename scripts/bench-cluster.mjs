#!/usr/bin/env node
// Chart-mode figures of `npm run bench` (also alone: node scripts/bench-cluster.mjs), on the
// one-node cluster from parts (scripts/local/lib/cluster.mjs), one run:
//   - `pulumi up` from empty -> every ExternalSecret Ready/SecretSynced (polled every 250 ms)
//   - vault-0 deleted -> back sealed -> `pulumi up` -> vault-0 Ready (unsealed), and up's own time
// Prints "chart mode: not measured: <why>" where the cluster tier's tools or chart are missing.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { Kube, bringUpCluster, cfgArgs, clusterPrerequisites, log, missingPlugins, pulumiEnv, pulumiOk, tearDownCluster, waitFor } from "./local/lib.mjs";

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
console.log("\n== bench, chart mode (one-node cluster from parts; one run; 2 shared cores)");
const line = (k, label) => fig[k] !== undefined && console.log(`${label.padEnd(58)} ${s(fig[k])}`);
line("clusterSetup", "cluster from parts up (before pulumi)");
line("chartUpToSynced", "chart mode: pulumi up from empty -> every ES synced");
line("chartUp", "chart mode: pulumi up's own time");
line("podBack", "vault-0 deleted -> new pod Running (sealed)");
line("resealUpToReady", "pulumi up -> vault-0 unsealed and Ready");
line("deleteToReady", "vault-0 deleted -> Ready again (incl. the up)");
if (fig.blocked) console.log(`NOT MEASURED: ${fig.blocked}`);
console.log(JSON.stringify(fig));
process.exit(fig.blocked ? 1 : 0);

// HA on the cluster tier: 3 raft replicas on one node, a failover of the active pod.
import { cfgArgs, waitFor } from "../../../scripts/local/lib.mjs";
import { assert, eq } from "../lib/assertions.mjs";
import { isReady, isRunning, secs } from "../lib/clusterTest.mjs";
import { VAULT_NS } from "../lib/stack.mjs";

/**
 * Raft only elects a new leader among voters, and new peers are non-voters until autopilot promotes
 * them: wait for three voters (with a root token generated from the unseal or recovery keys,
 * revoked afterwards) before deleting the active pod.
 */
export async function waitForVoters(t, active, keys) {
    const root = await t.generateRoot(active, keys);
    try {
        return await waitFor("3 raft voters", async () => {
            const res = await t.vault("GET", "sys/storage/raft/autopilot/state", undefined, root, active);
            const v = res.json?.data?.voters ?? res.json?.voters ?? [];
            return res.status === 200 && v.length === 3 ? v : undefined;
        }, { timeoutMs: 120000, intervalMs: 1000 });
    } finally {
        await t.vault("POST", "auth/token/revoke-self", {}, root, active);
    }
}

export const haFailover = (r, t, n) =>
    r.check(n, `prod-like HA (3 raft replicas, ${t.release} chart): every pod joins and is unsealed, one active; the active pod deleted -> a standby takes over, up unseals the returning pod`, async () => {
        const names = t.podNames(3);
        const { result: up } = await t.watchPod(VAULT_NS, names[0], () => t.POk(["up", "--yes", "--skip-preview", ...cfgArgs(t.dir)]));
        t.upDone = true;
        const states = [];
        for (const name of names) {
            await waitFor(`${name} Ready`, async () => isReady(await t.pod(VAULT_NS, name)), { timeoutMs: 120000 });
            const h = await t.health(name);
            assert(h.initialized && !h.sealed, `${name}: initialized=${h.initialized} sealed=${h.sealed}`);
            states.push(`${name} ${h.standby ? "standby" : "active"}`);
        }
        eq(states.filter((s) => s.endsWith("active")).length, 1, "active pods");
        t.timings.haUp = up.ms;
        // The active pod deleted: a standby takes over, the pod comes back sealed, and `pulumi up`
        // (its tunnel following the new active pod's label) unseals it.
        const active = states.find((s) => s.endsWith("active")).split(" ")[0];
        const voters = await waitForVoters(t, active, await t.stackOutputSecret("vaultUnsealKeys"));
        const old = await t.pod(VAULT_NS, active);
        await t.deletePod(VAULT_NS, active);
        const leader = await waitFor("a standby to take over", async () => {
            for (const name of names.filter((x) => x !== active)) {
                const h = await t.health(name).catch(() => undefined);
                if (h && !h.sealed && !h.standby) return name;
            }
            return undefined;
        }, { timeoutMs: 120000 });
        await waitFor(`${active} back and sealed`, async () => {
            const p = await t.pod(VAULT_NS, active);
            return p && p.metadata.uid !== old.metadata.uid && isRunning(p) && (await t.health(active).catch(() => undefined))?.sealed === true;
        }, { timeoutMs: 120000 });
        const up2 = await t.POk(["up", "--yes", "--skip-preview", ...cfgArgs(t.dir)]);
        await waitFor(`${active} Ready`, async () => isReady(await t.pod(VAULT_NS, active)), { timeoutMs: 60000 });
        const h2 = await t.health(active);
        assert(!h2.sealed && h2.standby, `${active} after up: sealed=${h2.sealed} standby=${h2.standby}`);
        return [`up ${secs(up.ms)}: ${states.join(", ")}; raft voters ${voters.length}`, `${active} deleted: ${leader} took over; ${active} back sealed, unsealed by up (${secs(up2.ms)}), now a standby`];
    });

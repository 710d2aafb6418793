// Auto-unseal with a real transit seal server (scripts/local/lib/sealServer.mjs): pods unseal
// themselves after a restart, a rolling restart keeps every ExternalSecret synced, and a seal
// server outage keeps a restarted pod sealed (saying why) until the server returns.
import { NET, cfgArgs, startSealServer, stopSealServer, transitSealConfig, waitFor } from "../../../scripts/local/lib.mjs";
import { assert, condition, eq } from "../lib/assertions.mjs";
import { isReady, isRunning, secs } from "../lib/clusterTest.mjs";
import { APP_NS, DECLARED, KV, VAULT_NS } from "../lib/stack.mjs";
import { waitForVoters } from "./ha.mjs";

const TOKEN_SECRET = "vault-transit-token";

/**
 * Before the first `up`: the seal server on the node IP, Vault's namespace holding the seal token
 * Secret (as the prod stack's comment asks an operator to create it), and the stack's vaultSeal.
 */
export async function prepareTransit(t) {
    const seal = await startSealServer(t.dir, { host: NET.nodeIp });
    const kube = t.kube();
    const ns = await kube.request("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: VAULT_NS } });
    assert(ns.status === 201, `create namespace ${VAULT_NS}: HTTP ${ns.status}`);
    const sec = await kube.request("POST", `/api/v1/namespaces/${VAULT_NS}/secrets`, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: TOKEN_SECRET },
        type: "Opaque",
        stringData: { token: seal.token },
    });
    assert(sec.status === 201, `create Secret ${TOKEN_SECRET}: HTTP ${sec.status}`);
    await t.POk(["config", "set", ...cfgArgs(t.dir), "--plaintext", "vault-eso-platform:vaultCreateNamespace", "false"]);
    await t.POk(["config", "set", ...cfgArgs(t.dir), "--plaintext", "vault-eso-platform:vaultSeal", JSON.stringify(transitSealConfig(seal.address, TOKEN_SECRET))]);
    t.seal = seal;
    return seal;
}

/** Which pod is active now (undefined during an election). */
async function activePod(t, names) {
    for (const n of names) {
        const h = await t.health(n).catch(() => undefined);
        if (h && !h.sealed && !h.standby) return n;
    }
    return undefined;
}

async function podLog(t, name) {
    const r = await t.kube().request("GET", `/api/v1/namespaces/${VAULT_NS}/pods/${name}/log?tailLines=200`);
    return r.text ?? "";
}

export const transitUp = (r, t, n) =>
    r.check(n, "transit seal, HA 3 pods: pulumi up initialises with recovery keys; every pod is unsealed by the seal server, not by keys", async () => {
        const names = t.podNames(3);
        const up = await t.POk(["up", "--yes", "--skip-preview", ...cfgArgs(t.dir)]);
        t.upDone = true;
        for (const name of names) await waitFor(`${name} Ready`, async () => isReady(await t.pod(VAULT_NS, name)), { timeoutMs: 120000 });
        const status = (await t.vault("GET", "sys/seal-status")).json;
        eq([status.type, status.recovery_seal, status.sealed], ["transit", true, false], "seal-status type, recovery_seal, sealed");
        const outputs = JSON.parse((await t.POk(["stack", "output", "--json", "--stack", "local"])).stdout);
        assert("vaultRecoveryKeys" in outputs && !("vaultUnsealKeys" in outputs), `outputs: expected vaultRecoveryKeys and no vaultUnsealKeys, got ${Object.keys(outputs).join(", ")}`);
        const recovery = await t.stackOutputSecret("vaultRecoveryKeys");
        eq(recovery.length, status.n, "recovery keys held");
        // Later checks delete pods: every raft peer a voter first (generate-root with the recovery keys).
        const voters = await waitForVoters(t, await activePod(t, names), recovery);
        eq(voters.length, 3, "raft voters");
        t.timings.transitUp = up.ms;
        return `up ${secs(up.ms)}; seal ${status.type}, ${status.t}-of-${status.n} recovery keys (vaultRecoveryKeys); ${names.join(", ")} Ready`;
    });

export const autoUnsealAfterDelete = (r, t, n) =>
    r.check(n, `${t.podName(0)} deleted: Ready again with no pulumi run (auto-unseal by the seal server)`, async () => {
        const name = t.podName(0);
        const old = await t.pod(VAULT_NS, name);
        const t0 = Date.now();
        await t.deletePod(VAULT_NS, name);
        const at = {};
        await waitFor(`${name} back and Ready`, async () => {
            const p = await t.pod(VAULT_NS, name);
            if (!p || p.metadata.uid === old.metadata.uid) return false;
            if (!at.running && isRunning(p)) at.running = Date.now() - t0;
            if (at.running && !at.unsealed && (await t.health(name).catch(() => undefined))?.sealed === false) at.unsealed = Date.now() - t0;
            return isReady(p);
        }, { timeoutMs: 120000, intervalMs: 200 });
        const took = Date.now() - t0;
        t.timings.transitDeleteToReady = took;
        const h = await t.health(name);
        assert(!h.sealed, `${name} is sealed after coming back`);
        const steps = `Running at ${secs(at.running ?? 0)}, unsealed at ${secs(at.unsealed ?? took)}, Ready at ${secs(took)}`;
        // No time limit here (timings belong to the bench, scripts/bench-cluster.mjs): what this
        // proves is that the pod unseals with nobody running pulumi; the figure is reported.
        return `delete -> Ready in ${secs(took)} (${steps}), unsealed by the seal server`;
    });

/**
 * A rolling restart (each pod deleted in turn, the next once the last is Ready) while a value in
 * Vault changes under an ExternalSecret with a 10 s refresh: every ExternalSecret stays Ready, the
 * new value lands, zero SecretSyncedError events.
 */
/**
 * The rolling restart itself (also run by scripts/bench-cluster.mjs): standbys first, the active
 * one after stepping down, each deleted once the last is Ready again, while a value changes in
 * Vault mid-rollout. Returns its time, what ESO reported meanwhile and whether the value landed.
 */
export async function rollPods(t) {
    const names = t.podNames(3);
    const target = DECLARED[0];
    const since = new Date(Date.now() - 1000).toISOString();
    const notReady = [];
    let stage = "before the first delete";
    let watching = true;
    const watch = (async () => {
        while (watching) {
            const list = (await t.kube().get(`/apis/external-secrets.io/v1/namespaces/${APP_NS}/externalsecrets`).catch(() => undefined))?.json?.items ?? [];
            for (const es of list) {
                const c = condition(es, "Ready");
                if (c?.status !== "True") notReady.push(`${es.metadata.name}: ${c?.reason} ${c?.message ?? ""} (${stage})`);
            }
            await new Promise((res) => setTimeout(res, 500));
        }
    })();
    const t0 = Date.now();
    const newValue = `rolled-${Date.now()}`;
    try {
        // Standbys first, the active pod last, as a StatefulSet rollout with OnDelete is done by hand.
        const active = await waitFor("an active pod", () => activePod(t, names), { timeoutMs: 60000 });
        const order = [...names.filter((x) => x !== active), active];
        for (const [i, name] of order.entries()) {
            if (name === active) {
                // The documented procedure: the active node steps down first (a root token generated
                // with the recovery keys, revoked at once), so a standby leads before it goes.
                const root = await t.generateRoot(name, await t.stackOutputSecret("vaultRecoveryKeys"));
                try {
                    const sd = await t.vault("PUT", "sys/step-down", {}, root, name);
                    assert(sd.status === 204 || sd.status === 200, `step-down on ${name}: HTTP ${sd.status}`);
                } finally {
                    await t.vault("POST", "auth/token/revoke", { token: root }, root, name).catch(() => undefined);
                }
                await waitFor("another pod active", async () => {
                    const now = await activePod(t, names);
                    return now && now !== name ? now : undefined;
                }, { timeoutMs: 60000 });
            }
            const old = await t.pod(VAULT_NS, name);
            stage = `${name} restarting, ${((Date.now() - t0) / 1000).toFixed(1)}s in`;
            const del = await t.kube().request("DELETE", `/api/v1/namespaces/${VAULT_NS}/pods/${name}`);
            assert(del.status === 200 || del.status === 202, `delete ${name}: HTTP ${del.status}`);
            await waitFor(`${name} back and Ready`, async () => {
                const p = await t.pod(VAULT_NS, name);
                return p && p.metadata.uid !== old.metadata.uid && isRunning(p) && isReady(p);
            }, { timeoutMs: 120000, intervalMs: 250 });
            stage = `${name} back Ready, ${((Date.now() - t0) / 1000).toFixed(1)}s in`;
            if (i === 0) {
                // The change lands mid-rollout, written through whichever pod is active.
                const writer = await waitFor("an active pod", () => activePod(t, names), { timeoutMs: 30000 });
                const data = { ...(await t.kvData(target.path, writer)), [target.keys[0]]: newValue };
                await t.kvWrite(target.path, data, writer);
            }
            // A leader again before the next pod goes.
            await waitFor("an active pod", () => activePod(t, names), { timeoutMs: 60000 });
        }
        await waitFor(`the new value in Secret ${target.name}`, async () => (await t.secretOf(target.name))[target.keys[0]] === newValue, { timeoutMs: 60000, intervalMs: 1000 });
    } finally {
        watching = false;
        await watch;
    }
    const ms = Date.now() - t0;
    const syncErrors = ((await t.kube().get(`/api/v1/namespaces/${APP_NS}/events`)).json?.items ?? [])
        .filter((e) => e.reason === "SecretSyncedError" && (e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp) >= since)
        .map((e) => `${e.involvedObject.name}: ${e.message}`);
    if (notReady.length || syncErrors.length) {
        // What ESO's controller said, for the failure message (it logs no secret).
        const pods = (await t.kube().get(`/api/v1/namespaces/external-secrets/pods?labelSelector=app.kubernetes.io%2Fname%3Dexternal-secrets`)).json?.items ?? [];
        const logs = await Promise.all(pods.map((p) => t.kube().request("GET", `/api/v1/namespaces/external-secrets/pods/${p.metadata.name}/log?sinceSeconds=300`)));
        const errs = logs.flatMap((l) => (l.text ?? "").split("\n").filter((x) => /error/i.test(x))).slice(-6);
        notReady.push(`ESO log: ${errs.join(" | ").slice(0, 3000)}`);
    }
    return { ms, notReady: [...new Set(notReady)], syncErrors, path: target.path };
}

export const rollingRestart = (r, t, n) =>
    r.check(n, "rolling restart of the 3 pods while a value changes under an ExternalSecret (10 s refresh): always Ready, the new value lands, zero SecretSyncedError events", async () => {
        const run = await rollPods(t);
        eq(run.syncErrors, [], "SecretSyncedError events during the rolling restart");
        eq(run.notReady, [], "ExternalSecrets seen not Ready during the rolling restart");
        t.timings.rollingRestart = run.ms;
        return `3 pods restarted in ${secs(run.ms)}; ${KV}/${run.path} changed mid-rollout and synced; 0 SecretSyncedError events; ExternalSecrets Ready throughout`;
    });

export const transitNoChanges = (r, t, n) =>
    r.check(n, "after the restarts: pulumi preview shows no changes (nothing for up to do)", async () => {
        const pv = await t.POk(["preview", "--expect-no-changes", ...cfgArgs(t.dir)]);
        return `preview ${secs(pv.ms)}: no changes`;
    });

/** The container's state: restarts, waiting/terminated reasons (OpenBao exits when its seal is unreachable). */
function containerState(p) {
    const c = p?.status?.containerStatuses?.[0];
    return { restarts: c?.restartCount ?? 0, waiting: c?.state?.waiting?.reason, lastExit: c?.lastState?.terminated?.exitCode };
}

export const sealServerOutage = (r, t, n) => {
    const name = t.podName(1);
    return r.check(n, `seal server down: a restarted ${name} cannot unseal (the server exits, the kubelet retries, NotReady throughout) and its log says why; the seal server back: it unseals by itself`, async () => {
        await stopSealServer(t.dir);
        const old = await t.pod(VAULT_NS, name);
        await t.deletePod(VAULT_NS, name);
        let notReadySeen = 0;
        // OpenBao (and Vault) refuse to start without their seal: the container exits with the reason.
        const why = await waitFor(`${name}'s log to say why it cannot unseal`, async () => {
            const p = await t.pod(VAULT_NS, name);
            if (!p || p.metadata.uid === old.metadata.uid) return undefined;
            assert(!isReady(p), `${name} is Ready while its seal server is down`);
            notReadySeen++;
            for (const previous of [false, true]) {
                const res = await t.kube().request("GET", `/api/v1/namespaces/${VAULT_NS}/pods/${name}/log?tailLines=50${previous ? "&previous=true" : ""}`);
                const line = (res.text ?? "").split("\n").find((l) => /seal/i.test(l) && /connection refused|dial tcp|error/i.test(l));
                if (res.status === 200 && line) return line;
            }
            return undefined;
        }, { timeoutMs: 90000, intervalMs: 1000 });
        const down = containerState(await t.pod(VAULT_NS, name));
        const unsealed = await t.health(name).then((h) => h.sealed === false, () => false);
        assert(!unsealed, `${name} answers unsealed while the seal server is down`);
        const t0 = Date.now();
        await startSealServer(t.dir, { host: NET.nodeIp });
        // The kubelet restarts the exited container after its back-off (10 s, doubling, at most 5 min).
        await waitFor(`${name} unsealed and Ready by itself`, async () => isReady(await t.pod(VAULT_NS, name)), { timeoutMs: 330000, intervalMs: 500 });
        assert((await t.health(name)).sealed === false, `${name} is Ready but sealed`);
        t.timings.sealServerBackToReady = Date.now() - t0;
        return [
            `seal server down: ${name} NotReady (${notReadySeen} samples), ${down.restarts} restart(s)${down.waiting ? `, ${down.waiting}` : ""}; log: ${why.trim().slice(0, 200)}`,
            `seal server back -> ${name} unsealed and Ready in ${secs(Date.now() - t0)}, no pulumi run`,
        ];
    });
};

// Seal migration, driven by the provider: a Shamir server given a transit seal stanza restarts in
// migration mode; `update` unseals it once with the stored keys and `migrate`, the keys become
// its recovery keys, and restarts need nothing after that. The reverse direction is refused.
import { BaoServer, TransitSeal, generateRootToken, kvWriteWhenReady, settleAll, startTransitKeyHolder } from "../support/openbao";
import { eachServer } from "../support/servers";
import { ProviderRunner, engineView, inputs } from "./harness/run";

jest.setTimeout(120000);

eachServer((flavor) => {
    let holder: BaoServer;
    let seal: TransitSeal;
    let server: BaoServer;
    let runner: ProviderRunner;

    beforeAll(async () => {
        await settleAll([
            startTransitKeyHolder(flavor).then((t) => ({ server: holder, seal } = t)),
            BaoServer.start({ flavor }).then((s) => (server = s)),
            ProviderRunner.create().then((r) => (runner = r)),
        ]);
    });

    afterAll(async () => {
        await server?.cleanup();
        await holder?.cleanup();
        runner?.cleanup();
    });

    test("Shamir -> transit: update migrates with the stored keys, which are then recovery keys; data kept; restarts auto-unseal; transit -> Shamir refused", async () => {
        const props = inputs({ address: server.address, secretShares: 3, secretThreshold: 2 });
        const created = await runner.op("create", props);
        expect(created.error).toBeUndefined();
        const outs = engineView(created.result.outs);
        expect(outs).toMatchObject({ sealType: "shamir" });
        // Data to keep: an entry written with a root token generated from the keys (revoked after).
        const root = await generateRootToken(server, outs.unsealKeys as string[]);
        expect((await server.api("POST", "sys/mounts/migrate-kv", { type: "kv", options: { version: "2" } }, root)).status).toBe(204);
        const written = await kvWriteWhenReady(server, "migrate-kv/data/app", { v: "kept" }, root);
        expect({ status: written.status, errors: written.json?.errors }).toEqual({ status: 200, errors: undefined });
        const clusterId = (await server.api("GET", "sys/seal-status")).json.cluster_id;

        // The seal stanza is added (as vaultSeal does to the chart's HCL) and the server restarts.
        await server.reconfigure({ transit: seal });
        const migrating = (await server.api("GET", "sys/seal-status")).json;
        expect(migrating).toMatchObject({ type: "transit", sealed: true, migration: true });
        expect((await runner.op("diff", created.result.id, outs, props)).result.changes).toBe(true);
        const upd = await runner.op("update", created.result.id, outs, props);
        expect(upd.error).toBeUndefined();
        expect(upd.output).toMatch(/migrating from Shamir to the transit seal; the unseal keys become its recovery keys/);
        const next = engineView(upd.result.outs);
        expect(next).toMatchObject({ sealType: "transit", secretShares: 3, secretThreshold: 2 });
        expect(next.unsealKeys).toEqual(outs.unsealKeys);
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ sealed: false, recovery_seal: true, cluster_id: clusterId });
        expect((await server.api("GET", "migrate-kv/data/app", undefined, root)).json.data.data).toEqual({ v: "kept" });
        expect((await server.api("POST", "auth/token/revoke-self", {}, root)).status).toBe(204);

        // Restarts need nothing now; the old unseal keys work as recovery keys (generate-root).
        await server.restart();
        const deadline = Date.now() + 30000;
        while ((await server.api("GET", "sys/seal-status")).json.sealed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ sealed: false, type: "transit", migration: false });
        expect((await runner.op("diff", created.result.id, next, props)).result.changes).toBe(false);
        const root2 = await generateRootToken(server, next.unsealKeys as string[]);
        expect((await server.api("GET", "migrate-kv/data/app", undefined, root2)).json.data.data).toEqual({ v: "kept" });
        await server.api("POST", "auth/token/revoke-self", {}, root2);

        // Back to Shamir (the stanza disabled): refused with the fix, Vault left as it was.
        await server.reconfigure({ transit: seal, transitDisabled: true });
        const back = (await server.api("GET", "sys/seal-status")).json;
        expect(back).toMatchObject({ migration: true, sealed: true });
        const refused = await runner.op("update", created.result.id, next, props);
        expect(refused.error?.message).toMatch(/configured to migrate from its auto-unseal seal back to Shamir keys\. This program does not drive that direction/);
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ sealed: true, progress: 0 });
        for (const s of [outs.adminToken as string, ...(outs.unsealKeys as string[])]) expect(runner.transcript).not.toContain(s);
    });
});

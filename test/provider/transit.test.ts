// Auto-unseal (transit seal held by a -dev server of the same kind): init returns recovery keys,
// no unseal calls. Once per server (support/servers.ts).
import { BaoServer, TransitSeal, auditRequests, generateRootToken, settleAll, startTransitKeyHolder } from "../support/openbao";
import { eachServer } from "../support/servers";
import { ProviderRunner, engineView, inputs } from "./harness/run";

jest.setTimeout(90000);

eachServer((flavor) => {
    let holder: BaoServer;
    let server: BaoServer;
    let runner: ProviderRunner;
    let lastOuts: Record<string, unknown>;

    beforeAll(async () => {
        let seal: TransitSeal | undefined;
        await settleAll([
            startTransitKeyHolder(flavor).then((t) => ({ server: holder, seal } = t)),
            ProviderRunner.create().then((r) => (runner = r)),
        ]);
        server = await BaoServer.start({ transit: seal!, flavor });
    });

    afterAll(async () => {
        await server?.cleanup();
        await holder?.cleanup();
        runner?.cleanup();
    });

    test("create initialises with recovery keys and the server unseals itself; restart needs nothing", async () => {
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ type: "transit", initialized: false });
        const props = inputs({ address: server.address });
        const res = await runner.op("create", props);
        expect(res.error).toBeUndefined();
        const outs = engineView(res.result.outs);
        lastOuts = outs;
        expect(outs).toMatchObject({ sealType: "transit", secretShares: 5, secretThreshold: 3 });
        expect(outs.unsealKeys).toHaveLength(5);
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: false, recovery_seal: true });
        expect(outs.rootToken).toBe("");
        expect((await server.api("GET", "auth/token/lookup-self", undefined, outs.adminToken as string)).status).toBe(200);

        await server.restart();
        const upd = await runner.op("update", res.result.id, outs, props);
        expect(upd.error).toBeUndefined();
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ sealed: false });
        expect((await runner.op("diff", res.result.id, outs, props)).result.changes).toBe(false);
        for (const s of [outs.adminToken as string, ...(outs.unsealKeys as string[])]) {
            expect(runner.transcript).not.toContain(s);
        }
    });

    test("an expired admin token is replaced with the recovery keys by the next update, nothing else changes", async () => {
        // HashiCorp Vault ignores the config's audit stanza: its file audit device is enabled through
        // the API, with a root token generated from the recovery keys (then revoked), before counting.
        if (flavor.kind === "vault") {
            const root = await generateRootToken(server, lastOuts.unsealKeys as string[]);
            await server.enableAudit(root);
            await server.api("POST", "auth/token/revoke-self", {}, root);
        }
        // A period change needs a root token (the admin token may not touch its own policy or mint
        // tokens): generated with the recovery keys. Then the 3 s token is left to expire.
        const props = inputs({ address: server.address, adminTokenPeriod: "3s" });
        const first = await runner.op("update", "id", lastOuts, props);
        expect(first.output).toMatch(/admin token period changed/);
        expect(first.error).toBeUndefined();
        const outs = engineView(first.result.outs);
        expect((await server.api("GET", "auth/token/lookup-self", undefined, outs.adminToken as string)).json.data.period).toBe(3);
        await new Promise((r) => setTimeout(r, 4500));
        expect((await server.api("GET", "auth/token/lookup-self", undefined, outs.adminToken as string)).status).toBe(403);
        const before = auditRequests(server).filter((e) => e.path === "sys/generate-root/update").length;
        // check (old inputs hold the dead token) picks a fresh value; diff plans; update mints it.
        const chk = await runner.op("check", { ...props, adminToken: outs.adminToken }, props);
        const diff = await runner.op("diff", "id", outs, chk.result.inputs);
        expect(diff.result.changes).toBe(true);
        const upd = await runner.op("update", "id", outs, chk.result.inputs);
        expect(engineView(upd.result.outs).adminToken).toBe(engineView(chk.result.inputs).adminToken);
        expect(upd.error).toBeUndefined();
        const next = engineView(upd.result.outs);
        expect(next.adminToken).not.toBe(outs.adminToken);
        expect({ ...next, adminToken: 0, adminTokenAccessor: 0 }).toEqual({ ...outs, adminToken: 0, adminTokenAccessor: 0 });
        expect((await server.api("GET", "auth/token/lookup-self", undefined, next.adminToken as string)).status).toBe(200);
        expect(auditRequests(server).filter((e) => e.path === "sys/generate-root/update").length).toBe(before + 3);
    });
});

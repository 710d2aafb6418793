// Auto-unseal (transit seal held by a -dev server of the same kind): init returns recovery keys,
// no unseal calls. Once per server (support/servers.ts).
import { BaoServer, TransitSeal, settleAll, startTransitKeyHolder } from "../support/openbao";
import { eachServer } from "../support/servers";
import { ProviderRunner, engineView, inputs } from "./harness/run";

jest.setTimeout(90000);

eachServer((flavor) => {
    let holder: BaoServer;
    let server: BaoServer;
    let runner: ProviderRunner;

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
        expect(outs).toMatchObject({ sealType: "transit", secretShares: 5, secretThreshold: 3 });
        expect(outs.unsealKeys).toHaveLength(5);
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: false, recovery_seal: true });
        expect((await server.api("GET", "auth/token/lookup-self", undefined, outs.rootToken as string)).status).toBe(200);

        await server.restart();
        const upd = await runner.op("update", res.result.id, outs, props);
        expect(upd.error).toBeUndefined();
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ sealed: false });
        expect((await runner.op("diff", res.result.id, outs, props)).result.changes).toBe(false);
        for (const s of [outs.rootToken as string, ...(outs.unsealKeys as string[])]) {
            expect(runner.transcript).not.toContain(s);
        }
    });
});

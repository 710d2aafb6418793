// Vault not answering yet (pod starting): create waits within timeoutSeconds, then initialises;
// if it never answers, the error names the address and the last transport error. Once per server.
import { BaoServer, settleAll } from "../support/openbao";
import { eachServer } from "../support/servers";
import { ProviderRunner, inputs } from "./harness/run";

jest.setTimeout(90000);

eachServer((flavor) => {
    let server: BaoServer;
    let runner: ProviderRunner;

    beforeAll(async () => {
        await settleAll([BaoServer.start({ flavor }).then((s) => (server = s)), ProviderRunner.create().then((r) => (runner = r))]);
        await server.stop();
    });

    afterAll(async () => {
        await server?.cleanup();
        runner?.cleanup();
    });

    test("gives up after timeoutSeconds with the address and ECONNREFUSED", async () => {
        const res = await runner.op("create", inputs({ address: server.address, timeoutSeconds: 2 }));
        expect(res.error?.message).toMatch(new RegExp(`^${server.address.replace(/[.]/g, "\\.")}: GET /v1/sys/seal-status did not succeed in time; last: .*ECONNREFUSED`));
    });

    test("waits for a server that comes up later, then initialises it", async () => {
        const pending = runner.op("create", inputs({ address: server.address, timeoutSeconds: 60 }));
        await new Promise((r) => setTimeout(r, 3000));
        await server.start();
        const res = await pending;
        expect(res.error).toBeUndefined();
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: false });
    });
});

// HTTPS: the certificate is checked against caCert and tlsServerName (as for a port-forward to
// 127.0.0.1); certificate errors fail at once, before anything is changed. Once per server.
import { BaoServer, makeTestTls, settleAll } from "../support/openbao";
import { eachServer } from "../support/servers";
import { ProviderRunner, inputs } from "./harness/run";

jest.setTimeout(90000);

const tls = makeTestTls("vault.test");

eachServer((flavor) => {
    let server: BaoServer;
    let runner: ProviderRunner;

    beforeAll(async () => {
        await settleAll([BaoServer.start({ tls, flavor }).then((s) => (server = s)), ProviderRunner.create().then((r) => (runner = r))]);
    });

    afterAll(async () => {
        await server?.cleanup();
        runner?.cleanup();
    });

    test("unknown CA or wrong name: clear TLS error, nothing changed", async () => {
        const started = Date.now();
        const noCa = await runner.op("create", inputs({ address: server.address, timeoutSeconds: 60 }));
        expect(noCa.error?.message).toMatch(/TLS verification failed .*set caCert and\/or tlsServerName/);
        const noName = await runner.op("create", inputs({ address: server.address, caCert: tls.ca, timeoutSeconds: 60 }));
        expect(noName.error?.message).toMatch(/TLS verification failed .*(altnames|does not match)/i);
        expect(Date.now() - started).toBeLessThan(20000); // not retried until the 60 s timeout
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: false });
    });

    test("caCert + tlsServerName: initialises and unseals over HTTPS", async () => {
        const res = await runner.op("create", inputs({ address: server.address, caCert: tls.ca, tlsServerName: "vault.test" }));
        expect(res.error).toBeUndefined();
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: false });
    });
});

// Crash-safe init: the provider process SIGKILLed at each point of a create (right after sys/init,
// mid-unseal, once the admin token exists, before the root token is revoked), then the create the
// engine runs next (the killed one never reached the state). It converges on the same Vault with
// the keys from the escrow: no second init, one admin token, no live root token.
import * as fs from "fs";
import * as path from "path";
import { BaoServer, generateRootToken, liveRootTokens } from "../support/openbao";
import { eachServer } from "../support/servers";
import { ProviderRunner, engineView, inputs } from "./harness/run";

jest.setTimeout(180000);

const POINTS = ["after-init", "mid-unseal", "after-admin", "before-revoke"];

eachServer((flavor) => {
    let runner: ProviderRunner;

    beforeAll(async () => {
        runner = await ProviderRunner.create();
    });

    afterAll(() => {
        runner?.cleanup();
    });

    test.each(POINTS)("killed at %s: the next create converges from the escrow", async (point) => {
        const server = await BaoServer.start({ flavor });
        try {
            // External mode's escrow sits beside a file backend's state (PULUMI_BACKEND_URL; the runner sets one).
            const props = inputs({ address: server.address });
            await runner.opKilledAt(point, {}, "create", props);
            expect((await server.api("GET", "sys/seal-status")).json.initialized).toBe(true);
            const escrowDir = runner.escrowDir;
            const files = fs.readdirSync(escrowDir).map((f) => path.join(escrowDir, f));
            expect(files).toHaveLength(1);
            expect(fs.statSync(files[0]).mode & 0o777).toBe(0o600);
            const escrowed = JSON.parse(fs.readFileSync(files[0], "utf8"));
            expect(escrowed.keys).toHaveLength(5);
            if (point === "before-revoke") expect(escrowed.adminToken).toBeTruthy();

            const res = await runner.op("create", props);
            expect(res.error).toBeUndefined();
            expect(res.output).toMatch(/initialised by an interrupted run: keys recovered from the escrow/);
            const outs = engineView(res.result.outs);
            expect(outs.unsealKeys).toEqual(escrowed.keys);
            expect(outs.rootToken).toBe("");
            expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: false });
            expect((await server.api("GET", "auth/token/lookup-self", undefined, outs.adminToken as string)).status).toBe(200);
            // No second init; no live root token but the one generated here to look; one admin token.
            // The escrowed keys are this Vault's: they generate a root token (and no init ran again: init
            // on an initialised Vault is refused, and the provider only calls it on an uninitialised one).
            const root = await generateRootToken(server, outs.unsealKeys as string[]);
            const self = (await server.api("GET", "auth/token/lookup-self", undefined, root)).json.data.accessor;
            expect(await liveRootTokens(server, root)).toEqual([self]);
            const accessors = (await server.api("GET", "auth/token/accessors?list=true", undefined, root)).json.data.keys as string[];
            const admins: string[] = [];
            for (const accessor of accessors) {
                const d = (await server.api("POST", "auth/token/lookup-accessor", { accessor }, root)).json.data;
                if ((d.policies ?? []).includes("pulumi-admin")) admins.push(accessor);
            }
            expect(admins).toEqual([outs.adminTokenAccessor]);
            await server.api("POST", "auth/token/revoke-self", {}, root);
            // The escrow stays until the cleanup resource runs after the state checkpoint.
            expect(fs.existsSync(files[0])).toBe(true);
            fs.rmSync(files[0]);
            for (const s of [outs.adminToken as string, ...(outs.unsealKeys as string[])]) expect(runner.transcript).not.toContain(s);
        } finally {
            await server.cleanup();
            runner.removeEscrows();
        }
    });
});

// VaultInit provider against one real server (shamir seal), driven through the serialized
// provider in fresh processes. Tests run in order and share the server: each builds on the last state.
// Once per server (support/servers.ts): OpenBao (raft storage), HashiCorp Vault (file storage).
import { BaoServer, settleAll } from "../support/openbao";
import { eachServer } from "../support/servers";
import { ProviderRunner, engineView, inputs, isWireSecret } from "./harness/run";

jest.setTimeout(90000);

eachServer((flavor) => {
    let server: BaoServer;
    let runner: ProviderRunner;
    let addr: Record<string, unknown>;
    let id: string;
    let outs: Record<string, unknown>;
    let keys: string[];
    let token: string;

    beforeAll(async () => {
        await settleAll([BaoServer.start({ flavor }).then((s) => (server = s)), ProviderRunner.create().then((r) => (runner = r))]);
        addr = { address: server.address };
    });

    afterAll(async () => {
        await server?.cleanup();
        runner?.cleanup();
    });

    const status = async () => (await server.api("GET", "sys/seal-status")).json;

    test(`the server is ${flavor.label} on ${flavor.standaloneStorage} storage, uninitialised`, async () => {
        // Vault's standalone test servers use "file" storage, the dev stack's chart path (OpenBao has only raft).
        expect(await status()).toMatchObject({ storage_type: flavor.standaloneStorage, initialized: false, sealed: true });
    });

    test("the provider serializes without capturing module state or clients", () => {
        const text = runner.serializedText;
        expect(text).toContain("exports.handler");
        // Helpers are inlined; TypeScript sources or Pulumi runtime state must not be captured.
        expect(text).not.toMatch(/require\("[^"]*\.ts"\)/);
        expect(text).not.toContain("__pulumi");
    });

    test("check rejects threshold > shares, and create refuses before any request", async () => {
        const bad = inputs({ ...addr, secretShares: 2, secretThreshold: 3 });
        const chk = await runner.op("check", {}, bad);
        expect(chk.result.failures).toEqual([expect.objectContaining({ property: "secretThreshold" })]);
        const res = await runner.op("create", bad);
        expect(res.ok).toBe(false);
        expect(res.error?.message).toMatch(/secretThreshold \(3\) must not exceed secretShares \(2\)/);
        expect(await status()).toMatchObject({ initialized: false, sealed: true });
    });

    test("create initialises and unseals; keys and token come back as secrets", async () => {
        const res = await runner.op("create", inputs(addr));
        expect(res.error).toBeUndefined();
        id = res.result.id;
        outs = res.result.outs;
        expect(isWireSecret(outs.rootToken)).toBe(true);
        expect(isWireSecret(outs.unsealKeys)).toBe(true);
        ({ rootToken: token, unsealKeys: keys } = engineView(outs) as { rootToken: string; unsealKeys: string[] });
        expect(keys).toHaveLength(5);
        expect(outs).toMatchObject({ sealType: "shamir", secretShares: 5, secretThreshold: 3, address: server.address });
        expect(outs.vaultVersion).toMatch(/^\d+\.\d+/);
        expect(await status()).toMatchObject({ initialized: true, sealed: false, t: 3, n: 5 });
        // The root token works: mount kv and write a value that must survive restarts.
        await waitActive();
        expect((await server.api("POST", "sys/mounts/kv", { type: "kv" }, token)).status).toBeLessThan(300);
        expect((await server.api("POST", "kv/probe", { v: "kept" }, token)).status).toBeLessThan(300);
    });

    test("diff and update with unchanged inputs are no-ops", async () => {
        const diff = await runner.op("diff", id, engineView(outs), inputs(addr));
        expect(diff.result).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        const upd = await runner.op("update", id, engineView(outs), inputs(addr));
        expect(upd.error).toBeUndefined();
        expect(engineView(upd.result.outs)).toMatchObject({ rootToken: token, unsealKeys: keys });
    });

    test("a second create against the initialised server fails clearly and changes nothing", async () => {
        const res = await runner.op("create", inputs(addr));
        expect(res.ok).toBe(false);
        expect(res.error?.message).toMatch(/already initialised/);
        expect(res.error?.message).toMatch(/pulumi config set --secret --path 'vaultAdoptUnsealKeys\[0\]'/);
        expect(res.error?.message).toMatch(/Nothing was changed/);
        expect(await status()).toMatchObject({ initialized: true, sealed: false });
        expect(await readProbe()).toBe("kept");
    });

    test("restart seals it: read and diff report drift, update unseals, data is still there", async () => {
        await server.restart();
        expect(await status()).toMatchObject({ initialized: true, sealed: true });
        const read = await runner.op("read", id, outs);
        expect(read.result.props.sealedTargets).toEqual([server.address]);
        expect(engineView(read.result.props)).toMatchObject({ rootToken: token, unsealKeys: keys });
        const diff = await runner.op("diff", id, engineView(outs), inputs(addr));
        expect(diff.result).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        const upd = await runner.op("update", id, engineView(outs), inputs(addr));
        expect(upd.error).toBeUndefined();
        expect(await status()).toMatchObject({ sealed: false });
        expect(await readProbe()).toBe("kept");
    });

    test("partial unseal progress left by someone else is reset and completed", async () => {
        await server.restart();
        const one = await server.api("PUT", "sys/unseal", { key: keys[4] });
        expect(one.json).toMatchObject({ sealed: true, progress: 1 });
        const upd = await runner.op("update", id, engineView(outs), inputs(addr));
        expect(upd.error).toBeUndefined();
        expect(await status()).toMatchObject({ sealed: false });
        expect(await readProbe()).toBe("kept");
    });

    test("wrong unseal keys fail clearly, without echoing them, and leave the server sealed", async () => {
        await server.restart();
        const wrong = ["wrongA", "wrongB", "wrongC"].map((s) => Buffer.from(s.padEnd(33, "x")).toString("base64"));
        const res = await runner.op("update", id, engineView(outs), inputs({ ...addr, adoptUnsealKeys: wrong, adoptRootToken: token }));
        expect(res.ok).toBe(false);
        expect(res.error?.message).toMatch(new RegExp(`${escape(server.address)}: unseal .*failed: HTTP 4\\d\\d`));
        for (const w of wrong) {
            expect(res.error?.message).not.toContain(w);
        }
        expect(await status()).toMatchObject({ initialized: true, sealed: true });
    });

    test("adopting with the right keys but a wrong root token unseals, then refuses the token", async () => {
        const res = await runner.op("create", inputs({ ...addr, adoptUnsealKeys: keys.slice(1, 4), adoptRootToken: "s.not-the-root-token" }));
        expect(res.ok).toBe(false);
        expect(res.error?.message).toMatch(/root token check .*HTTP 403/);
        expect(await status()).toMatchObject({ initialized: true, sealed: false });
    });

    test("adopting a Vault initialised elsewhere: create with its keys and token", async () => {
        await server.restart();
        const res = await runner.op("create", inputs({ ...addr, adoptUnsealKeys: keys.slice(2), adoptRootToken: token }));
        expect(res.error).toBeUndefined();
        expect(engineView(res.result.outs)).toMatchObject({ rootToken: token, unsealKeys: keys.slice(2), secretShares: 5, secretThreshold: 3 });
        expect(res.result.outs.adoptFingerprint).toMatch(/^[0-9a-f]{64}$/);
        expect(await status()).toMatchObject({ sealed: false });
        expect(await readProbe()).toBe("kept");
    });

    test("changing shares/threshold after init is refused as a rekey; nothing changes", async () => {
        const news = inputs({ ...addr, secretShares: 7, secretThreshold: 4 });
        const diff = await runner.op("diff", id, engineView(outs), news);
        expect(diff.result).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        const upd = await runner.op("update", id, engineView(outs), news);
        expect(upd.ok).toBe(false);
        expect(upd.error?.message).toMatch(/needs a rekey/);
        expect(await status()).toMatchObject({ sealed: false, t: 3, n: 5 });
    });

    test("an address change is an update (never a replace) and unseals the same Vault", async () => {
        const alias = { address: server.address.replace("127.0.0.1", "localhost") };
        await server.restart();
        const diff = await runner.op("diff", id, engineView(outs), inputs(alias));
        expect(diff.result).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        const upd = await runner.op("update", id, engineView(outs), inputs(alias));
        expect(upd.error).toBeUndefined();
        expect(upd.result.outs.address).toBe(alias.address);
        expect(await status()).toMatchObject({ sealed: false });
    });

    test("delete is a no-op: the server stays initialised and unsealed", async () => {
        const del = await runner.op("delete", id, engineView(outs));
        expect(del.ok).toBe(true);
        expect(del.output).toMatch(/not sealed and its data and keys are untouched/);
        expect(await status()).toMatchObject({ initialized: true, sealed: false });
        expect(await readProbe()).toBe("kept");
    });

    test("no key or root token ever appears in anything the provider printed", () => {
        expect(runner.transcript.length).toBeGreaterThan(0);
        for (const s of [token, ...keys]) {
            expect(runner.transcript).not.toContain(s);
        }
    });

    async function waitActive(): Promise<void> {
        const deadline = Date.now() + 20000;
        while (Date.now() < deadline) {
            const r = await server.api("GET", "sys/health");
            if (r.status === 200) {
                return;
            }
            await new Promise((res) => setTimeout(res, 200));
        }
        throw new Error("server did not become active");
    }

    async function readProbe(): Promise<string | undefined> {
        await waitActive();
        return (await server.api("GET", "kv/probe", undefined, token)).json?.data?.v;
    }

    function escape(s: string): string {
        return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }
});

// VaultInit provider against one real server (shamir seal), driven through the serialized
// provider in fresh processes. Tests run in order and share the server: each builds on the last state.
// Once per server (support/servers.ts): OpenBao (raft storage), HashiCorp Vault (file storage).
import { BaoServer, auditRequests, generateRootToken, liveRootTokens, settleAll } from "../support/openbao";
import { eachServer } from "../support/servers";
import { ProviderRunner, engineView, inputs, isWireSecret, unwrap } from "./harness/run";

jest.setTimeout(90000);

eachServer((flavor) => {
    let server: BaoServer;
    let runner: ProviderRunner;
    let addr: Record<string, unknown>;
    let id: string;
    let outs: Record<string, unknown>;
    let keys: string[];
    /** The admin token the provider minted (the provider's token from now on). */
    let admin: string;
    /** A root token the test generates with the keys for its own assertions (never the provider's). */
    let testRoot: string | undefined;
    let initProxy: { address: string; bodies: string[]; close(): Promise<void> };

    beforeAll(async () => {
        await settleAll([BaoServer.start({ flavor }).then((s) => (server = s)), ProviderRunner.create().then((r) => (runner = r))]);
        // The provider talks to the server through a recording proxy, so the test sees the root token
        // sys/init returned (the provider never outputs it) and can prove it is revoked.
        // HashiCorp Vault has no declarative audit device: the proxy enables it (sys/audit) with the
        // init root token just before the provider's first request with that token, so the audit log
        // covers that token's uses and its revoke-self as on OpenBao. Nothing to do on OpenBao.
        let auditOn = flavor.kind !== "vault";
        initProxy = await recordingProxy(server.address, "/v1/sys/init", async (token) => {
            const initRoot = initProxy?.bodies.length ? (JSON.parse(initProxy.bodies[0]).root_token as string) : undefined;
            if (!auditOn && token && token === initRoot) {
                auditOn = await server.enableAudit(token).then(
                    () => true,
                    () => false,
                );
            }
        });
        addr = { address: initProxy.address };
    });

    afterAll(async () => {
        await initProxy?.close();
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

    test("create initialises and unseals; keys and admin token come back as secrets; no root token remains", async () => {
        const res = await runner.op("create", inputs(addr));
        expect(res.error).toBeUndefined();
        id = res.result.id;
        outs = res.result.outs;
        expect(isWireSecret(outs.rootToken)).toBe(true);
        expect(isWireSecret(outs.adminToken)).toBe(true);
        expect(isWireSecret(outs.unsealKeys)).toBe(true);
        ({ adminToken: admin, unsealKeys: keys } = engineView(outs) as { adminToken: string; unsealKeys: string[] });
        expect(engineView(outs).rootToken).toBe("");
        expect(admin).toMatch(flavor.tokenPattern);
        expect(keys).toHaveLength(5);
        expect(outs).toMatchObject({ sealType: "shamir", secretShares: 5, secretThreshold: 3, address: addr.address, adminTokenPeriod: "768h" });
        expect(outs.vaultVersion).toMatch(/^\d+\.\d+/);
        expect(await status()).toMatchObject({ initialized: true, sealed: false, t: 3, n: 5 });
        await waitActive();
        // The admin token: orphan, periodic, only pulumi-admin (no default policy).
        const self = (await server.api("GET", "auth/token/lookup-self", undefined, admin)).json.data;
        expect(self).toMatchObject({ policies: ["pulumi-admin"], orphan: true, period: 768 * 3600, renewable: true });
        // The root token from init is rejected: revoked (audit: revoke-self by a root-policy token). No
        // root-policy token is alive but the one this test just generated with the keys.
        const initRoot = JSON.parse(initProxy.bodies[0]).root_token as string;
        expect(initRoot).toMatch(flavor.tokenPattern);
        expect((await server.api("GET", "auth/token/lookup-self", undefined, initRoot)).status).toBe(403);
        expect((await server.api("POST", "sys/mounts/kv2", { type: "kv" }, initRoot)).status).toBe(403);
        expect(auditRequests(server)).toContainEqual(expect.objectContaining({ path: "auth/token/revoke-self", policies: ["root"] }));
        const mine = await root();
        const alive = await liveRootTokens(server, mine);
        const own = (await server.api("GET", "auth/token/lookup-self", undefined, mine)).json.data.accessor;
        expect(alive).toEqual([own]);
        // Mount kv and write a value that must survive restarts (with the test's root token).
        expect((await server.api("POST", "sys/mounts/kv", { type: "kv" }, mine)).status).toBeLessThan(300);
        expect((await server.api("POST", "kv/probe", { v: "kept" }, mine)).status).toBeLessThan(300);
    });

    test("the admin token cannot read KV data it was not granted nor touch sys paths it does not manage", async () => {
        await waitActive();
        const denied: [string, string, unknown?][] = [
            ["GET", "kv/probe"],
            ["POST", "sys/seal", {}],
            // Vault on non-HA (file) storage answers step-down 204 before any ACL check (there is
            // nothing to step down from): asserted below as a no-op instead.
            ...(flavor.standaloneStorage === "raft" ? [["POST", "sys/step-down", {}] as [string, string, unknown]] : []),
            ["PUT", "sys/policies/acl/pulumi-admin", { policy: 'path "*" { capabilities = ["sudo","read"] }' }],
            ["POST", "auth/token/create", { policies: ["root"] }],
            ["POST", "sys/mounts/other", { type: "kv" }],
            ["GET", "sys/storage/raft/configuration"],
            ["PUT", "sys/generate-root-token/attempt", {}],
            ["POST", "sys/auth/userpass", { type: "userpass" }],
            ["POST", "sys/mounts/cubbyhole2", { type: "kv" }],
            ["GET", "sys/audit"],
        ];
        for (const [method, p, body] of denied) {
            const r = await server.api(method, p, body, admin);
            expect([p, r.status]).toEqual([p, 403]);
        }
        if (flavor.standaloneStorage === "file") {
            expect((await server.api("POST", "sys/step-down", {}, admin)).status).toBe(204);
            expect((await server.api("GET", "sys/health")).json).toMatchObject({ initialized: true, sealed: false, standby: false });
        }
        expect((await server.api("GET", "auth/token/lookup-self", undefined, admin)).status).toBe(200);
        expect((await server.api("POST", "auth/token/renew-self", {}, admin)).status).toBe(200);
    });

    test("diff and update with unchanged inputs are no-ops", async () => {
        const diff = await runner.op("diff", id, engineView(outs), inputs(addr));
        expect(diff.result).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        const upd = await runner.op("update", id, engineView(outs), inputs(addr));
        expect(upd.error).toBeUndefined();
        expect(engineView(upd.result.outs)).toMatchObject({ rootToken: "", adminToken: admin, unsealKeys: keys });
    });

    test("check keeps a live admin token's value and renews it once a tenth of its period (at most 1 h) has passed", async () => {
        // A 20 s period (a period change mints a new token with a root token from the keys).
        const short = inputs({ ...addr, adminTokenPeriod: "20s" });
        const upd = await runner.op("update", id, engineView(outs), short);
        expect(upd.error).toBeUndefined();
        const tok = engineView(upd.result.outs).adminToken as string;
        const ttl = async () => (await server.api("GET", "auth/token/lookup-self", undefined, tok)).json.data.ttl as number;
        await new Promise((r) => setTimeout(r, 2600));
        expect(await ttl()).toBeLessThanOrEqual(18);
        const chk = await runner.op("check", { ...short, adminToken: tok }, short);
        expect(chk.error).toBeUndefined();
        expect(unwrap(chk.result.inputs.adminToken)).toBe(tok);
        expect(isWireSecret(chk.result.inputs.adminToken)).toBe(true);
        expect(await ttl()).toBeGreaterThanOrEqual(19);
        // Back to the default period: a new token again, which the later tests use.
        const back = await runner.op("update", id, upd.result.outs, inputs(addr));
        expect(back.error).toBeUndefined();
        outs = back.result.outs;
        admin = engineView(outs).adminToken as string;
    });

    test("a revoked admin token: diff plans an update, which generates a root token with the keys, mints a new admin token, revokes that root token, and changes nothing else", async () => {
        const mine = await root();
        const accessor = (await server.api("GET", "auth/token/lookup-self", undefined, admin)).json.data.accessor;
        expect((await server.api("POST", "auth/token/revoke-accessor", { accessor }, mine)).status).toBe(204);
        expect((await server.api("GET", "auth/token/lookup-self", undefined, admin)).status).toBe(403);
        const generatedBefore = auditRequests(server).filter((e) => e.path === "sys/generate-root/update").length;
        // As the engine runs it: check (old inputs hold the token it chose) picks a fresh value, which
        // a preview shows as the Vault provider's token; diff plans the update; update mints it.
        const chk = await runner.op("check", { ...inputs(addr), adminToken: admin }, inputs(addr));
        expect(chk.output).toMatch(/admin token has expired or was revoked/);
        const wanted = unwrap(chk.result.inputs.adminToken) as string;
        expect(wanted).not.toBe(admin);
        const diff = await runner.op("diff", id, engineView(outs), chk.result.inputs);
        expect(diff.result).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        expect(diff.output).toMatch(/admin token has expired or was revoked/);
        const upd = await runner.op("update", id, engineView(outs), chk.result.inputs);
        expect(upd.error).toBeUndefined();
        expect(engineView(upd.result.outs).adminToken).toBe(wanted);
        expect(upd.output).toMatch(/sys\/generate-root/);
        const next = engineView(upd.result.outs) as Record<string, unknown>;
        const others = (o: Record<string, unknown>) => ({ ...o, adminToken: undefined, adminTokenAccessor: undefined });
        expect(others(next)).toEqual(others(engineView(outs)));
        expect(next.adminToken).not.toBe(admin);
        admin = next.adminToken as string;
        outs = upd.result.outs;
        expect((await server.api("GET", "auth/token/lookup-self", undefined, admin)).json.data.policies).toEqual(["pulumi-admin"]);
        // The audit log shows the generate-root (3 key submissions), and the generated root token's
        // only uses: write the policy, create the admin token, revoke the old one, revoke itself.
        const audit = auditRequests(server);
        expect(audit.filter((e) => e.path === "sys/generate-root/update").length).toBe(generatedBefore + 3);
        expect(audit).toContainEqual(expect.objectContaining({ path: "sys/generate-root/attempt" }));
        expect(audit.filter((e) => e.path === "auth/token/revoke-self" && e.policies?.includes("root")).length).toBeGreaterThanOrEqual(2);
        // No root token survives but the test's own.
        const own = (await server.api("GET", "auth/token/lookup-self", undefined, mine)).json.data.accessor;
        expect(await liveRootTokens(server, mine)).toEqual([own]);
        // And the next check keeps it, the next diff is quiet again.
        const chk2 = await runner.op("check", chk.result.inputs, inputs(addr));
        expect(unwrap(chk2.result.inputs.adminToken)).toBe(admin);
        const again = await runner.op("diff", id, engineView(outs), chk2.result.inputs);
        expect(again.result.changes).toBe(false);
    });

    test("a state from provider version 1 (root token, no admin token) is converted by the update: admin token minted, that root token revoked", async () => {
        const legacyRoot = await generateRootToken(server, keys);
        const legacy = { ...engineView(outs), rootToken: legacyRoot, providerVersion: 0 } as Record<string, unknown>;
        for (const k of ["adminToken", "adminTokenAccessor", "adminPolicy", "adminTokenPeriod"]) delete legacy[k];
        const diff = await runner.op("diff", id, legacy, inputs(addr));
        expect(diff.result.changes).toBe(true);
        const upd = await runner.op("update", id, legacy, inputs(addr));
        expect(upd.error).toBeUndefined();
        const got = engineView(upd.result.outs);
        expect(got).toMatchObject({ rootToken: "", unsealKeys: keys, providerVersion: 1 });
        expect((await server.api("GET", "auth/token/lookup-self", undefined, legacyRoot)).status).toBe(403);
        expect((await server.api("GET", "auth/token/lookup-self", undefined, got.adminToken as string)).json.data.policies).toEqual(["pulumi-admin"]);
        // The converted state is the suite's state from now on (the earlier admin token is left to expire).
        outs = upd.result.outs;
        admin = got.adminToken as string;
    });

    test("a changed admin policy is rewritten with a generated (then revoked) root token; the admin token stays the same", async () => {
        const mine = await root();
        const grant = 'path "kv/probe" {\n  capabilities = ["read"]\n}\n';
        const before = auditRequests(server).filter((e) => e.path === "sys/generate-root/update").length;
        const diff = await runner.op("diff", id, engineView(outs), inputs({ ...addr, adminPolicy: grant }));
        expect(diff.result.changes).toBe(true);
        expect((await server.api("GET", "kv/probe", undefined, admin)).status).toBe(403);
        const upd = await runner.op("update", id, engineView(outs), inputs({ ...addr, adminPolicy: grant }));
        expect(upd.error).toBeUndefined();
        expect(upd.output).toMatch(/policy changed: generating a root token/);
        expect(engineView(upd.result.outs)).toMatchObject({ adminToken: admin, adminPolicy: grant, rootToken: "" });
        expect((await server.api("GET", "kv/probe", undefined, admin)).json?.data?.v).toBe("kept");
        expect(auditRequests(server).filter((e) => e.path === "sys/generate-root/update").length).toBe(before + 3);
        const own = (await server.api("GET", "auth/token/lookup-self", undefined, mine)).json.data.accessor;
        expect(await liveRootTokens(server, mine)).toEqual([own]);
        // And back: the grant is gone again, same token.
        const back = await runner.op("update", id, upd.result.outs ? engineView(upd.result.outs) : {}, inputs(addr));
        expect(back.error).toBeUndefined();
        expect(engineView(back.result.outs).adminToken).toBe(admin);
        expect((await server.api("GET", "kv/probe", undefined, admin)).status).toBe(403);
        outs = back.result.outs;
    });

    test("a second create against the initialised server fails clearly and changes nothing", async () => {
        // As after a completed `up`: its escrow cleanup removed the init escrow once the state held the keys.
        runner.removeEscrows();
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
        expect(read.result.props.sealedTargets).toEqual([addr.address]);
        expect(engineView(read.result.props)).toMatchObject({ adminToken: admin, unsealKeys: keys });
        expect(isWireSecret(read.result.props.adminToken)).toBe(true);
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
        const res = await runner.op("update", id, engineView(outs), inputs({ ...addr, adoptUnsealKeys: wrong, adoptRootToken: "s.not-used-here" }));
        expect(res.ok).toBe(false);
        expect(res.error?.message).toMatch(new RegExp(`${escape(addr.address as string)}: unseal .*failed: HTTP 4\\d\\d`));
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

    test("adopting a Vault initialised elsewhere: its root token is used once for the admin identity, then revoked", async () => {
        await server.restart();
        // The "operator's" root token: made with the keys (the server is sealed, so unseal first).
        for (const k of keys.slice(0, 3)) await server.api("PUT", "sys/unseal", { key: k });
        await waitActive();
        const adopted = await generateRootToken(server, keys);
        await server.restart();
        const res = await runner.op("create", inputs({ ...addr, adoptUnsealKeys: keys.slice(2), adoptRootToken: adopted }));
        expect(res.error).toBeUndefined();
        const got = engineView(res.result.outs);
        expect(got).toMatchObject({ rootToken: "", unsealKeys: keys.slice(2), secretShares: 5, secretThreshold: 3 });
        expect(got.adminToken).toMatch(flavor.tokenPattern);
        expect(res.result.outs.adoptFingerprint).toMatch(/^[0-9a-f]{64}$/);
        expect(await status()).toMatchObject({ sealed: false });
        await waitActive();
        expect((await server.api("GET", "auth/token/lookup-self", undefined, adopted)).status).toBe(403);
        expect((await server.api("GET", "auth/token/lookup-self", undefined, got.adminToken as string)).status).toBe(200);
        // An update with the adopt config still set (the token is spent) keeps the admin token.
        const upd = await runner.op("update", res.result.id, engineView(res.result.outs), inputs({ ...addr, adoptUnsealKeys: keys.slice(2), adoptRootToken: adopted }));
        expect(upd.error).toBeUndefined();
        expect(engineView(upd.result.outs).adminToken).toBe(got.adminToken);
        // And with new adopted keys next to the spent token, it says so and keeps the admin token too.
        const upd2 = await runner.op("update", res.result.id, engineView(upd.result.outs), inputs({ ...addr, adoptUnsealKeys: keys.slice(1, 4), adoptRootToken: adopted }));
        expect(upd2.error).toBeUndefined();
        expect(upd2.output).toMatch(/adoptRootToken is no longer valid/);
        expect(engineView(upd2.result.outs).adminToken).toBe(got.adminToken);
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
        const alias = { address: (addr.address as string).replace("127.0.0.1", "localhost") };
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

    test("no key or token ever appears in anything the provider printed", () => {
        expect(runner.transcript.length).toBeGreaterThan(0);
        for (const s of [admin, ...keys]) {
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

    /** The test's own root token (generated with the keys when it has none or it was revoked). */
    async function root(): Promise<string> {
        await waitActive();
        if (!testRoot || (await server.api("GET", "auth/token/lookup-self", undefined, testRoot)).status !== 200) {
            testRoot = await generateRootToken(server, keys);
        }
        return testRoot;
    }

    async function readProbe(): Promise<string | undefined> {
        return (await server.api("GET", "kv/probe", undefined, await root())).json?.data?.v;
    }

    function escape(s: string): string {
        return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }
});

/**
 * An HTTP proxy to `target` that keeps the response bodies of requests to `recordPath`; `before`,
 * if given, is awaited with each request's token before that request is forwarded.
 */
async function recordingProxy(
    target: string,
    recordPath: string,
    before?: (token: string | undefined) => Promise<void>,
): Promise<{ address: string; bodies: string[]; close(): Promise<void> }> {
    const http = await import("http");
    const bodies: string[] = [];
    const srv = http.createServer(async (req, res) => {
        await before?.(req.headers["x-vault-token"] as string | undefined);
        const up = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers, agent: false }, (ur) => {
            const chunks: Buffer[] = [];
            ur.on("data", (c: Buffer) => chunks.push(c));
            ur.on("end", () => {
                const body = Buffer.concat(chunks);
                if (req.url === recordPath && req.method === "PUT") bodies.push(body.toString("utf8"));
                res.writeHead(ur.statusCode ?? 502, ur.headers).end(body);
            });
        });
        up.on("error", () => res.destroy());
        req.pipe(up);
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as { port: number }).port;
    return {
        address: `http://127.0.0.1:${port}`,
        bodies,
        close: () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }),
    };
}

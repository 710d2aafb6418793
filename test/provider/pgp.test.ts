// pgpKeys: init succeeds but we cannot unseal with encrypted keys. The keys must still reach the
// state (engine "partial init" error with id + properties), and adopting the decrypted keys finishes.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BaoServer } from "../support/openbao";
import { ProviderRunner, engineView, inputs, isWireSecret } from "./harness/run";

jest.setTimeout(90000);

let server: BaoServer;
let runner: ProviderRunner;
let gnupg: string;
let pubKey: string;

const gpg = (args: string[], input?: Buffer) =>
    execFileSync("gpg", ["--batch", "--quiet", ...args], { env: { ...process.env, GNUPGHOME: gnupg }, input, stdio: ["pipe", "pipe", "ignore"] });

beforeAll(async () => {
    if (!hasGpg) {
        return;
    }
    gnupg = fs.mkdtempSync(path.join(os.tmpdir(), "vault-init-gpg-"));
    gpg(["--passphrase", "", "--quick-gen-key", "vault-init test <test@example.invalid>", "default", "default", "never"]);
    pubKey = gpg(["--export"]).toString("base64");
    [server, runner] = await Promise.all([BaoServer.start(), ProviderRunner.create()]);
});

afterAll(async () => {
    await server?.cleanup();
    runner?.cleanup();
    if (gnupg) {
        fs.rmSync(gnupg, { recursive: true, force: true });
    }
});

const hasGpg = (() => {
    try {
        execFileSync("gpg", ["--version"], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
})();

(hasGpg ? test : test.skip)("PGP-encrypted keys: partial state keeps them, adopting the decrypted keys unseals", async () => {
    const props = inputs({ address: server.address, secretShares: 3, secretThreshold: 2, pgpKeys: [pubKey, pubKey, pubKey] });
    const res = await runner.op("create", props);
    expect(res.ok).toBe(false);
    expect(res.error?.message).toMatch(/PGP-encrypted .*adoptUnsealKeys/);
    expect(res.error?.message).toMatch(/Vault WAS initialised: keys and root token are saved in the stack state/);
    // What the engine records as ErrorResourceInitFailed: id + secret-wrapped keys and token.
    const partial = res.error?.properties as Record<string, unknown>;
    expect(res.error?.id).toBeTruthy();
    expect(isWireSecret(partial.unsealKeys)).toBe(true);
    expect(isWireSecret(partial.rootToken)).toBe(true);
    expect(partial.keysEncrypted).toBe(true);
    expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: true, n: 3, t: 2 });

    const olds = engineView(partial);
    const decrypted = (olds.unsealKeys as string[]).map((k) => gpg(["--decrypt"], Buffer.from(k, "base64")).toString("utf8").trim());
    // The engine retries an init-failed resource with update; diff also sees the sealed server.
    expect((await runner.op("diff", res.error?.id, olds, props)).result.changes).toBe(true);
    const upd = await runner.op("update", res.error?.id, olds, { ...props, adoptUnsealKeys: decrypted.slice(0, 2), adoptRootToken: olds.rootToken });
    expect(upd.error).toBeUndefined();
    expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ sealed: false });
    expect(engineView(upd.result.outs)).toMatchObject({ keysEncrypted: false, unsealKeys: decrypted.slice(0, 2) });
    for (const s of [olds.rootToken as string, ...decrypted]) {
        expect(runner.transcript).not.toContain(s);
    }
});

// The real Pulumi engine (tools-built `pulumi`, local file backend) running test/engine/program
// against a real server, once per server (OpenBao; HashiCorp Vault when built, see
// test/support/servers.ts): what the state holds, what preview shows, what destroy leaves.
// End-to-end tier (`npm run test:engine`), not `npm test`: it needs the pulumi CLI, which the
// engine project's globalSetup provisions through the tools runner (a ~25 min cold build).
import { ChildProcess, execFile, execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BaoServer } from "../support/openbao";
import { ServerFlavor, eachServer } from "../support/servers";

jest.setTimeout(180000);

const root = path.resolve(__dirname, "..", "..");
let dir: string;
let program: string;
let env: NodeJS.ProcessEnv;
let transcript = "";
/** pulumi commands still running and servers started: a timed-out test must not leave them behind. */
const running = new Set<ChildProcess>();
const servers = new Set<BaoServer>();

async function startServer(flavor: ServerFlavor): Promise<BaoServer> {
    const server = await BaoServer.start({ flavor });
    servers.add(server);
    return server;
}

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-init-engine-"));
    fs.mkdirSync(path.join(dir, "state"));
    // The program runs from a temp copy, so stack files (Pulumi.<stack>.yaml) never land in the checkout.
    program = path.join(dir, "program");
    fs.mkdirSync(program);
    fs.copyFileSync(path.join(__dirname, "program", "Pulumi.yaml"), path.join(program, "Pulumi.yaml"));
    const index = fs.readFileSync(path.join(__dirname, "program", "index.ts"), "utf8");
    fs.writeFileSync(path.join(program, "index.ts"), index.replace("../../../components/", `${root}/components/`));
    fs.writeFileSync(path.join(program, "package.json"), JSON.stringify({ name: "vault-init-e2e", main: "index.ts", devDependencies: { typescript: "*" } }));
    fs.symlinkSync(path.join(root, "node_modules"), path.join(program, "node_modules"));
    env = {
        ...process.env,
        PULUMI_CONFIG_PASSPHRASE: "engine-test",
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        // `npm run build` type-checks this code; ts-node type-checking each run would only add seconds.
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    };
    // Hermetic tool env from the tools contract: PATH (pulumi, plugins), PULUMI_HOME, no downloads.
    const exports = execFileSync(process.execPath, [path.join(root, "tools", "run.mjs"), "--env"], { cwd: root, encoding: "utf8" });
    for (const m of exports.matchAll(/^export (\w+)='([^']*)'(.*)$/gm)) {
        env[m[1]] = m[2] + (m[3] === ':"$PATH"' ? `:${process.env.PATH}` : "");
    }
});

afterAll(async () => {
    for (const p of running) {
        p.kill("SIGKILL");
    }
    await Promise.all([...servers].map((s) => s.cleanup()));
    fs.rmSync(dir, { recursive: true, force: true });
});

function pulumi(stack: string, args: string[], allowFail = false): Promise<string> {
    const all = [...args, "--stack", stack, "--non-interactive"];
    return new Promise((resolve, reject) => {
        const child = execFile("pulumi", all, { cwd: program, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
            running.delete(child);
            const out = stdout + stderr;
            if (!args.includes("--show-secrets")) {
                transcript += out;
            }
            if (err && !allowFail) {
                reject(new Error(`pulumi ${args.join(" ")} failed:\n${out}`));
            } else {
                resolve(out);
            }
        });
        running.add(child);
    });
}

async function newStack(stack: string, address: string): Promise<void> {
    await pulumi(stack, ["stack", "init"]);
    await pulumi(stack, ["config", "set", "address", address]);
}

const hasGpg = spawnSync("gpg", ["--version"]).status === 0;

eachServer((flavor) => {
    // Stacks of one state backend: one pair per server.
    const main = `main-${flavor.kind}`;
    const pgp = `pgp-${flavor.kind}`;

    test("up initialises; keys only encrypted in state; sealed -> preview shows update; destroy leaves Vault alone", async () => {
        const server = await startServer(flavor);
        try {
            await newStack(main, server.address);
            await pulumi(main, ["up", "--yes", "--skip-preview"]);
            const outs = JSON.parse(await pulumi(main, ["stack", "output", "--json", "--show-secrets"]));
            const secrets: string[] = [outs.adminToken, ...outs.unsealKeys];
            expect(outs.rootToken).toBe("");
            // The engine runs check(), which chooses the admin token's value (so that a preview knows
            // the Vault provider's token): a 256-bit id minted with exactly that value.
            expect(outs.adminToken).toMatch(/^pa-[A-Za-z0-9_-]{43}$/);
            expect(outs.unsealKeys).toHaveLength(3);
            expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: false, n: 3, t: 2 });

            await server.restart();
            const preview = await pulumi(main, ["preview", "--diff"]);
            expect(preview).toMatch(/~ 1 to update/);
            expect(preview).toMatch(/VaultInit: sealed: http:\/\/127\.0\.0\.1:\d+; the update unseals/);
            await pulumi(main, ["up", "--yes", "--skip-preview"]);
            expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ sealed: false });
            expect(await pulumi(main, ["preview"])).not.toMatch(/to update/);

            await pulumi(main, ["refresh", "--yes"]);
            const state = await pulumi(main, ["stack", "export"]);
            expect(state).toMatch(/"rootToken": \{\s*"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",\s*"ciphertext"/);
            expect(state).toMatch(/"unsealKeys": \{\s*"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",\s*"ciphertext"/);
            expect(state).toMatch(/"adminToken": \{\s*"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",\s*"ciphertext"/);

            await pulumi(main, ["destroy", "--yes"]);
            expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: false });
            for (const s of secrets) {
                expect(transcript).not.toContain(s);
                expect(state).not.toContain(s);
            }
        } finally {
            await server.cleanup();
        }
    });

    (hasGpg ? test : test.skip)("init that fails after sys/init (PGP keys) still records the keys, secret, in the state; adopting finishes", async () => {
        const gnupg = fs.mkdtempSync(path.join(os.tmpdir(), "vault-init-gpg-"));
        const gpg = (args: string[], input?: Buffer) =>
            execFileSync("gpg", ["--batch", "--quiet", ...args], { env: { ...process.env, GNUPGHOME: gnupg }, input, stdio: ["pipe", "pipe", "ignore"] });
        const server = await startServer(flavor);
        try {
            gpg(["--passphrase", "", "--quick-gen-key", "engine test <test@example.invalid>", "default", "default", "never"]);
            const pub = gpg(["--export"]).toString("base64");
            await newStack(pgp, server.address);
            for (const n of [0, 1, 2]) {
                await pulumi(pgp, ["config", "set", "--path", `pgpKeys[${n}]`, pub]);
            }
            const failed = await pulumi(pgp, ["up", "--yes", "--skip-preview"], true);
            expect(failed).toMatch(/PGP-encrypted/);
            expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: true });
            const state = JSON.parse(await pulumi(pgp, ["stack", "export"]));
            const res = state.deployment.resources.find((r: { type: string }) => r.type.endsWith(":VaultInit"));
            expect(res.initErrors?.[0]).toMatch(/Vault WAS initialised/);
            expect(res.outputs.unsealKeys.ciphertext).toBeTruthy();
            expect(res.outputs.rootToken.ciphertext).toBeTruthy();
            // The operator's recovery path: read the encrypted keys from the state, decrypt, adopt.
            const plain = JSON.parse(await pulumi(pgp, ["stack", "export", "--show-secrets"]));
            const outs = plain.deployment.resources.find((r: { type: string }) => r.type.endsWith(":VaultInit")).outputs;
            const keys = JSON.parse(outs.unsealKeys.plaintext) as string[];
            const token = JSON.parse(outs.rootToken.plaintext) as string;
            const decrypted = keys.slice(0, 2).map((k) => gpg(["--decrypt"], Buffer.from(k, "base64")).toString("utf8").trim());
            for (const [n, k] of decrypted.entries()) {
                await pulumi(pgp, ["config", "set", "--secret", "--path", `adoptUnsealKeys[${n}]`, k]);
            }
            await pulumi(pgp, ["config", "set", "--secret", "adoptRootToken", token]);
            await pulumi(pgp, ["up", "--yes", "--skip-preview"]);
            expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ sealed: false });
            // The root token from init, adopted, was used once for the admin token and revoked.
            expect((await server.api("GET", "auth/token/lookup-self", undefined, token)).status).toBe(403);
            for (const s of [token, ...decrypted]) {
                expect(transcript).not.toContain(s);
            }
        } finally {
            await server.cleanup();
            fs.rmSync(gnupg, { recursive: true, force: true });
        }
    });
});

// The real Pulumi engine (tools-built `pulumi`, local file backend) running test/provider/e2e
// against a real OpenBao: what the state holds, what preview shows, what destroy leaves.
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BaoServer } from "../support/openbao";

jest.setTimeout(180000);

const root = path.resolve(__dirname, "..", "..");
const program = path.join(__dirname, "e2e");
let dir: string;
let env: NodeJS.ProcessEnv;
let transcript = "";

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-init-engine-"));
    fs.mkdirSync(path.join(dir, "state"));
    env = { ...process.env, PULUMI_CONFIG_PASSPHRASE: "engine-test", PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}` };
    // Hermetic tool env from the tools contract: PATH (pulumi, plugins), PULUMI_HOME, no downloads.
    const exports = execFileSync(process.execPath, [path.join(root, "tools", "run.mjs"), "--env"], { cwd: root, encoding: "utf8" });
    for (const m of exports.matchAll(/^export (\w+)='([^']*)'(.*)$/gm)) {
        env[m[1]] = m[2] + (m[3] === ':"$PATH"' ? `:${process.env.PATH}` : "");
    }
});

afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
});

function pulumi(stack: string, args: string[], allowFail = false): Promise<string> {
    // Stack config lives in the temp dir, not next to Pulumi.yaml (`stack ...` takes no --config-file).
    const config = args[0] === "stack" ? [] : ["--config-file", path.join(dir, `Pulumi.${stack}.yaml`)];
    const all = [...args, "--stack", stack, ...config, "--non-interactive"];
    return new Promise((resolve, reject) => {
        execFile("pulumi", all, { cwd: program, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
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
    });
}

async function newStack(stack: string, address: string): Promise<void> {
    await pulumi(stack, ["stack", "init"]);
    await pulumi(stack, ["config", "set", "address", address]);
}

test("up initialises; keys only encrypted in state; sealed -> preview shows update; destroy leaves Vault alone", async () => {
    const server = await BaoServer.start();
    try {
        await newStack("main", server.address);
        await pulumi("main", ["up", "--yes", "--skip-preview"]);
        const outs = JSON.parse(await pulumi("main", ["stack", "output", "--json", "--show-secrets"]));
        const secrets: string[] = [outs.rootToken, ...outs.unsealKeys];
        expect(outs.unsealKeys).toHaveLength(3);
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: false, n: 3, t: 2 });

        await server.restart();
        const preview = await pulumi("main", ["preview", "--diff"]);
        expect(preview).toMatch(/~ 1 to update/);
        expect(preview).toMatch(/VaultInit: sealed: http:\/\/127\.0\.0\.1:\d+; the update unseals/);
        await pulumi("main", ["up", "--yes", "--skip-preview"]);
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ sealed: false });
        expect(await pulumi("main", ["preview"])).not.toMatch(/to update/);

        await pulumi("main", ["refresh", "--yes"]);
        const state = await pulumi("main", ["stack", "export"]);
        expect(state).toMatch(/"rootToken": \{\s*"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",\s*"ciphertext"/);
        expect(state).toMatch(/"unsealKeys": \{\s*"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",\s*"ciphertext"/);

        await pulumi("main", ["destroy", "--yes"]);
        expect((await server.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: false });
        for (const s of secrets) {
            expect(transcript).not.toContain(s);
            expect(state).not.toContain(s);
        }
    } finally {
        await server.cleanup();
    }
});

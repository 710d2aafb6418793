// `pulumi preview --policy-pack policies` with the real CLI from tools/ on a throwaway program and
// a local file backend. End-to-end tier (`npm run test:engine`): the engine project's globalSetup
// provisions the pinned pulumi (`node tools/run.mjs pulumi`).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const root = path.join(__dirname, "../..");
const tool = spawnSync(process.execPath, [path.join(root, "tools/run.mjs"), "--path", "pulumi"], { encoding: "utf8" });
const pulumi = tool.status === 0 ? tool.stdout.trim() : undefined;

// A pure-JS program (no provider plugins needed): components carry the inputs the rules read.
const program = `
const pulumi = require("@pulumi/pulumi");
class Fake extends pulumi.ComponentResource {
    constructor(type, name, args) { super(type, name, args); this.registerOutputs({}); }
}
new Fake("kubernetes:core/v1:Secret", "pull", { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": "eyJ" } });
new Fake("vault:index/policy:Policy", "eso", { name: "external-secrets", policy: 'path "*" { capabilities = ["read"] }' });
`;

// Engines without a nodejs language host run packs through this plugin (the official distribution
// ships it); tools/' pulumi uses its language host's RunPlugin instead, so this is belt and braces.
const analyzerShim = `#!/bin/sh
exec node "$(node -p "require.resolve('@pulumi/pulumi/cmd/run-policy-pack')")" "$@"
`;

describe("pulumi preview --policy-pack policies (real CLI)", () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;
    const run = (...args: string[]) => spawnSync(pulumi!, args, { cwd: dir, env, encoding: "utf8", timeout: 240_000 });

    beforeAll(() => {
        if (!pulumi) {
            throw new Error(`the pinned pulumi CLI is not available (\`node tools/run.mjs --path pulumi\`: ${tool.stderr.trim()}); build it with \`npm run tools -- pulumi\``);
        }
        // Inside the checkout, so the program resolves @pulumi/pulumi from its node_modules.
        dir = fs.mkdtempSync(path.join(root, "test/engine/.cli-"));
        fs.mkdirSync(path.join(dir, "bin"));
        fs.mkdirSync(path.join(dir, "state"));
        fs.writeFileSync(path.join(dir, "bin/pulumi-analyzer-policy"), analyzerShim, { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: policy-smoke\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n");
        fs.writeFileSync(path.join(dir, "index.js"), program);
        const toolEnv = spawnSync(process.execPath, [path.join(root, "tools/run.mjs"), "--env"], { encoding: "utf8" }).stdout;
        const home = /PULUMI_HOME='([^']+)'/.exec(toolEnv)?.[1];
        env = {
            ...process.env,
            PATH: `${path.join(dir, "bin")}:${path.dirname(pulumi!)}:${process.env.PATH}`,
            ...(home ? { PULUMI_HOME: home } : {}),
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "policy-smoke",
        };
        const init = run("stack", "init", "prod", "--non-interactive");
        expect([init.status, init.stdout + init.stderr]).toEqual([0, expect.stringContaining("Created stack 'prod'")]);
    }, 60_000);

    afterAll(() => {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("fails the preview with the pack's violations", () => {
        const preview = run("preview", "--non-interactive", "--policy-pack", path.join(root, "policies"));
        const out = preview.stdout + preview.stderr;
        expect(preview.status).not.toBe(0);
        expect(out).toContain("vault-eso-platform");
        expect(out).toContain('kubernetes:core/v1:Secret "pull": type "kubernetes.io/dockerconfigjson" sets literal data (".dockerconfigjson")');
        expect(out).toContain('policy "external-secrets": grants ["read"] on the bare path "*"');
        expect(out).toContain('Stack "prod" (environment prod) declares no vault:index/audit:Audit');
    }, 240_000);

    it("honours --policy-pack-config", () => {
        const config = path.join(dir, "config.json");
        fs.writeFileSync(
            config,
            JSON.stringify({
                "no-literal-kubernetes-secrets": { allowedNames: ["pull"] },
                "vault-policy-least-privilege": "disabled",
                "vault-audit-device": { environment: "dev" },
            }),
        );
        const preview = run("preview", "--non-interactive", "--policy-pack", path.join(root, "policies"), "--policy-pack-config", config);
        expect([preview.status, preview.stdout + preview.stderr]).toEqual([0, expect.not.stringContaining("mandatory")]);
    }, 240_000);
});

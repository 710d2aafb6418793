// The fleet runner's pure parts: the fleet file (every problem at once, paths, defaults), the hub's
// spokes config it derives, the worker pool, the summary table (scripts/fleet/).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { FleetFileError, hubSpokesConfig, loadFleet, repoRoot } from "../../scripts/fleet/file.mjs";
import { changingStep, summaryTable } from "../../scripts/fleet/report.mjs";
import { failureOf, pool } from "../../scripts/fleet/run.mjs";

function fleetDir(doc, stacks = ["hub", "eu-1", "us-1"]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-test-"));
    for (const s of stacks) fs.writeFileSync(path.join(dir, `Pulumi.${s}.yaml`), "config: {}\n");
    fs.writeFileSync(path.join(dir, "fleet.yaml"), doc);
    return dir;
}

test("a valid fleet file: paths resolved against the file, stack defaults, policy config found", () => {
    const dir = fleetDir(`project: ${repoRoot}\nconfigDir: .\nhub: {stack: hub}\nspokes:\n  - name: eu-1\n  - {name: us-1, stack: us-1, kvPrefix: us}\n`);
    const f = loadFleet(path.join(dir, "fleet.yaml"));
    assert.equal(f.projectDir, repoRoot);
    assert.equal(f.hub.configFile, path.join(dir, "Pulumi.hub.yaml"));
    assert.deepEqual(f.spokes.map((s) => [s.name, s.stack, s.role]), [["eu-1", "eu-1", "spoke"], ["us-1", "us-1", "spoke"]]);
    assert.equal(f.policyPack, path.join(repoRoot, "policies"));
    assert.deepEqual(hubSpokesConfig(f), [{ name: "eu-1", stack: "eu-1" }, { name: "us-1", kvPrefix: "us", stack: "us-1" }]);
});

test("every problem of a fleet file at once, each with its key", () => {
    const dir = fleetDir(`project: ${repoRoot}\nconfigDir: .\ncolor: red\nbackend: nowhere\nhub: {stack: hub}\nspokes:\n  - {name: Bad_Name}\n  - {name: eu-1, region: x}\n  - {name: eu-1, stack: hub}\n  - {name: eu-2}\n`);
    assert.throws(
        () => loadFleet(path.join(dir, "fleet.yaml")),
        (e) => {
            assert.ok(e instanceof FleetFileError);
            const text = e.problems.join("\n");
            for (const expected of [
                "color: unknown key",
                'backend: "nowhere" is not a backend URL',
                'spokes[0].name: "Bad_Name" must be a DNS label',
                "spokes[1].region: unknown key",
                'spokes[2].name: "eu-1" is also spokes[1]',
                "spokes[2].stack: hub is already used in this fleet",
                `spokes[3].stack: eu-2 has no config file ${path.join(dir, "Pulumi.eu-2.yaml")}`,
            ]) assert.ok(text.includes(expected), `missing problem: ${expected}\n${text}`);
            assert.match(e.message, /no stack was touched/);
            return true;
        },
    );
});

test("tenant shards: labelled shard; their tenant namespaces may not repeat the hub's or another shard's", () => {
    const NS = "vault-eso-platform";
    const dir = fleetDir(`project: ${repoRoot}\nconfigDir: .\nhub: {stack: hub}\nspokes:\n  - {name: eu-1}\n  - {name: blue, stack: blue}\n  - {name: green, stack: green}\n`, ["hub", "eu-1"]);
    const write = (stack, config) => fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), `config:\n${Object.entries(config).map(([k, v]) => `  ${NS}:${k}: ${JSON.stringify(v)}`).join("\n")}\n`);
    write("hub", { tenants: [{ name: "team-a", namespace: "team-a" }] });
    // A spoke in its own cluster may reuse any namespace: only shards share the hub's cluster.
    write("eu-1", { vaultMode: "spoke", tenants: [{ name: "team-a", namespace: "team-a" }] });
    write("blue", { vaultMode: "spoke", tenantShard: true, tenants: [{ name: "blue-a" }] });
    write("green", { vaultMode: "spoke", tenantShard: true, tenants: JSON.stringify([{ name: "green-a" }]) });
    const ok = loadFleet(path.join(dir, "fleet.yaml"));
    assert.deepEqual(ok.spokes.map((s) => [s.name, s.role]), [["eu-1", "spoke"], ["blue", "shard"], ["green", "shard"]]);

    // One change at a time: each clash is named with the stack that has the namespace already.
    const cases = [
        ["blue", { vaultMode: "spoke", tenantShard: true, tenants: [{ name: "x", namespace: "team-a" }] }, 'spokes[1]: tenant "x" of shard blue (stack blue) uses namespace "team-a", already used by the hub\'s tenant "team-a" (stack hub)'],
        ["blue", { vaultMode: "spoke", tenantShard: true, tenants: [{ name: "demo-external-secrets" }] }, "already used by the hub's default tenant (stack hub)"],
        ["blue", { vaultMode: "spoke", tenantShard: true, tenants: [{ name: "vault" }] }, "already used by the hub's vaultNamespace (stack hub)"],
        ["green", { vaultMode: "spoke", tenantShard: true, tenants: [{ name: "g", namespace: "blue-a" }] }, 'spokes[2]: tenant "g" of shard green (stack green) uses namespace "blue-a", already used by tenant "blue-a" of shard blue (stack blue)'],
    ];
    for (const [stack, config, expected] of cases) {
        const before = fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8");
        write(stack, config);
        assert.throws(() => loadFleet(path.join(dir, "fleet.yaml")), (e) => {
            assert.ok(e instanceof FleetFileError);
            assert.equal(e.problems.length, 1, e.message);
            assert.ok(e.problems[0].includes(expected), `${e.problems[0]}\nshould include: ${expected}`);
            assert.match(e.problems[0], /tenant shards share the hub's cluster/);
            return true;
        });
        fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), before);
    }
    assert.doesNotThrow(() => loadFleet(path.join(dir, "fleet.yaml")));
});

test("a fleet file without a hub says so", () => {
    const dir = fleetDir(`project: ${repoRoot}\nspokes: []\n`);
    assert.throws(() => loadFleet(path.join(dir, "fleet.yaml")), (e) => e.problems.length === 1 && e.problems[0] === "hub: required, e.g. `hub: {stack: dev}`");
});

test("a missing fleet file says how to pass one", () => {
    assert.throws(() => loadFleet("/nonexistent/fleet.yaml"), /no such file; pass --file <fleet file>/);
});

test("pool runs at most n at once and keeps the order of results", async () => {
    let running = 0;
    let peak = 0;
    const out = await pool([5, 1, 4, 2, 3], 2, async (x) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, x * 5));
        running--;
        return x * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(peak, 2);
});

test("the summary table: a row per stack with its changes, time and result; failures listed", () => {
    const text = summaryTable(
        [
            { stack: "hub", role: "hub", op: "up", changes: { create: 4, same: 70 }, ms: 12000, result: "ok" },
            { stack: "eu-1", role: "spoke", op: "up", changes: {}, ms: 3000, result: "failed", detail: "error: boom" },
            { stack: "us-1", role: "spoke", op: "up", changes: {}, ms: 0, result: "skipped", detail: "the hub failed" },
        ],
        "up",
    );
    const lines = text.split("\n");
    assert.equal(lines[0], "fleet up: 1 of 3 stacks ok");
    assert.match(lines[1], /^stack\s+role\s+operation\s+create\s+update\s+delete\s+replace\s+same\s+duration\s+result$/);
    assert.match(lines[3], /^hub\s+hub\s+up\s+4\s+0\s+0\s+0\s+70\s+12\.0s\s+ok$/);
    assert.match(lines[5], /^us-1\s+spoke\s+up(\s+0){5}\s+-\s+skipped$/);
    assert.ok(lines.includes("eu-1: failed: error: boom"));
});

test("the committed dev fleet file is valid", () => {
    const f = loadFleet(path.join(repoRoot, "fleets", "dev.yaml"));
    assert.deepEqual([f.hub.stack, ...f.spokes.map((s) => s.stack)], ["dev", "dev-eu-1"]);
});

test("a failed stack's detail: the engine's error lines and the problems listed under them", () => {
    const commandResult = {
        stdout:
            "Previewing update (spoke-eu-1)\n\nDiagnostics:\n  pulumi:pulumi:Stack (vault-eso-platform-spoke-eu-1):\n    error: Invalid stack configuration (1 problem); nothing was changed:\n" +
            "      - vault-eso-platform:vaultHa: a spoke runs no Vault server (its hub does); remove vaultHa\n\nResources:\n",
        stderr: "error: Command failed with exit code 255: pulumi preview --stack spoke-eu-1\n",
    };
    const detail = failureOf({ commandResult });
    assert.match(detail, /Invalid stack configuration \(1 problem\); nothing was changed: \| - vault-eso-platform:vaultHa: a spoke runs no Vault server/);
    assert.doesNotMatch(detail, /Command failed/);
});

test("the steps that count: a preview's announced and an up's done changes; no same, read or provider steps", () => {
    const ev = (kind, op, type, name) => ({ [kind]: { metadata: { op, type, urn: `urn:pulumi:dev::p::${type}::${name}` } } });
    assert.deepEqual(changingStep(ev("resourcePreEvent", "create", "vault:index/policy:Policy", "p1"), true), { op: "create", type: "vault:index/policy:Policy", name: "p1" });
    assert.deepEqual(changingStep(ev("resOutputsEvent", "update", "pulumi-nodejs:dynamic/vault:VaultInit", "init"), false), { op: "update", type: "pulumi-nodejs:dynamic/vault:VaultInit", name: "init" });
    // A preview counts what it announces, an up what it did: the other event kind is not a step.
    assert.equal(changingStep(ev("resOutputsEvent", "create", "vault:index/policy:Policy", "p1"), true), undefined);
    assert.equal(changingStep(ev("resourcePreEvent", "create", "vault:index/policy:Policy", "p1"), false), undefined);
    for (const [op, type] of [["same", "vault:index/policy:Policy"], ["read", "kubernetes:core/v1:Secret"], ["delete", "pulumi:providers:kubernetes"]]) {
        assert.equal(changingStep(ev("resourcePreEvent", op, type, "x"), true), undefined, `${op} ${type}`);
    }
    assert.equal(changingStep({ diagnosticEvent: { message: "m", severity: "info" } }, true), undefined);
});

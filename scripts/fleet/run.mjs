// Runs one operation over a fleet with the Automation API: removed spokes first (their stacks are
// destroyed while the hub's token for them still works), then the hub, then the spokes in parallel.
// A failed spoke does not stop the others; a failed hub `up` skips the spokes (their tokens come
// from it). Every preview and up runs the policy pack.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation/index.js";
import { PREVIEW_ENV } from "../previewEnv.mjs";
import { configFileOf, hubSpokesConfig } from "./file.mjs";
import { changingStep } from "./report.mjs";

const NS = "vault-eso-platform";

/** One row of the summary: what a stack did. */
function row(s, op) {
    return { stack: s.stack, role: s.role, op, changes: {}, steps: [], ms: 0, result: "pending", detail: "" };
}

/**
 * `only`: run just this stack of the fleet (a CI matrix job per stack); the hub still gets `spokes`
 * from the fleet file, and a removed spoke is still recognised by the hub's state.
 */
export async function runFleet(fleet, op, { parallel = 4, progress, signal, only } = {}) {
    // A preview run only previews (its removed spokes' destroys included): PREVIEW_ENV for all of it.
    const envVars = { ...(fleet.backend ? { PULUMI_BACKEND_URL: fleet.backend } : {}), ...(op === "preview" ? PREVIEW_ENV : {}) };
    const open = async (stack) => Stack.select(stack, await LocalWorkspace.create({ workDir: fleet.projectDir, envVars }));
    const rows = [];
    const hub = await open(fleet.hub.stack);

    // Which spokes the hub has minted tokens for (its last up): those no longer in the file leave.
    const deployed = await deployedSpokes(hub);
    const wanted = new Set(fleet.spokes.map((s) => s.name));
    const removed = Object.entries(deployed)
        .filter(([name]) => !wanted.has(name))
        .map(([name, e]) => ({ role: "removed spoke", name, stack: e.stack ?? name, configFile: configFileOf(fleet, e.stack ?? name) }));

    const run = async (s, what, fn) => {
        if (only && s.stack !== only) return { result: "ok" };
        const r = row(s, what);
        rows.push(r);
        const t0 = Date.now();
        progress?.start(s, what);
        try {
            const planning = /preview/.test(what);
            const res = await fn(await open(s.stack), (e) => {
                const step = changingStep(e, planning);
                if (step) r.steps.push(`${step.op} ${step.type} ${step.name}`);
                progress?.event(s, e, r);
            });
            r.changes = res.changes;
            r.result = "ok";
        } catch (e) {
            r.result = "failed";
            r.detail = failureOf(e);
        }
        r.ms = Date.now() - t0;
        progress?.end(s, r);
        return r;
    };
    const skip = (s, what, why) => {
        if (only && s.stack !== only) return;
        const r = { ...row(s, what), result: "skipped", detail: why };
        rows.push(r);
        progress?.end(s, r);
    };
    // showSecrets false: the Automation API's summary otherwise runs `stack history --show-secrets`,
    // which ignores --config-file and writes a new Pulumi.<stack>.yaml into the project dir.
    const common = (s) => ({ configFile: s.configFile, color: "never", signal, showSecrets: false });
    const checked = (s) => ({ ...common(s), policyPacks: [fleet.policyPack], ...(s.policyConfig ? { policyPackConfigs: [s.policyConfig] } : {}) });

    if (op === "destroy") {
        // Spokes first (they use the hub's Vault), then the hub.
        const spokeRows = await pool([...fleet.spokes, ...removed], parallel, (s) => run(s, "destroy", (st, onEvent) => destroy(st, common(s), onEvent)));
        if (spokeRows.some((r) => r.result !== "ok")) skip(fleet.hub, "destroy", "a spoke's destroy failed: the hub keeps serving it");
        else await run(fleet.hub, "destroy", (st, onEvent) => destroy(st, common(fleet.hub), onEvent));
        return rows;
    }

    // 1. Spokes that left the fleet file: their stacks go, while their tokens still work.
    const removedRows = await pool(removed, parallel, (s) =>
        run(s, op === "up" ? "destroy" : "preview destroy", (st, onEvent) => (op === "up" ? destroy(st, common(s), onEvent) : previewDestroy(st, common(s), onEvent))),
    );
    // A spoke whose destroy failed stays on the hub (its stack still holds resources).
    const keep = removed.filter((s, i) => removedRows[i].result !== "ok").map((s) => ({ name: s.name, stack: s.stack, ...(deployed[s.name]?.kvPrefix !== `spokes/${s.name}` ? { kvPrefix: deployed[s.name].kvPrefix } : {}) }));

    // 2. The hub, with `spokes` as the file says. A preview uses a copy of the hub's config file, so
    //    the checkout is unchanged; an up writes the file, which then records what runs.
    const spokesCfg = [...hubSpokesConfig(fleet), ...keep];
    const hubCfg = op === "up" ? fleet.hub.configFile : copyConfig(fleet.hub.configFile);
    const changed = !only || only === fleet.hub.stack ? await setHubSpokes(fleet, hubCfg, spokesCfg, envVars) : false;
    if (changed) progress?.note(fleet.hub, `${op === "up" ? fleet.hub.configFile : "a copy of the hub's config"}: ${NS}:spokes = [${spokesCfg.map((s) => s.name).join(", ")}] (from the fleet file)`);
    const hubRow = await run(fleet.hub, op, (st, onEvent) => (op === "up" ? up(st, { ...checked(fleet.hub), configFile: hubCfg }, onEvent) : preview(st, { ...checked(fleet.hub), configFile: hubCfg }, onEvent)));
    if (hubCfg !== fleet.hub.configFile) fs.rmSync(path.dirname(hubCfg), { recursive: true, force: true });

    // 3. The spokes, in parallel.
    if (op === "up" && hubRow.result !== "ok") {
        for (const s of fleet.spokes) skip(s, op, "the hub's up failed (the spokes' tokens come from it)");
        return rows;
    }
    await pool(fleet.spokes, parallel, (s) => run(s, op, (st, onEvent) => (op === "up" ? up(st, checked(s), onEvent) : preview(st, checked(s), onEvent))));
    return rows;
}

async function up(stack, opts, onEvent) {
    const res = await stack.up({ ...opts, onEvent, onOutput: () => {} });
    return { changes: res.summary.resourceChanges ?? {} };
}

async function preview(stack, opts, onEvent) {
    const res = await stack.preview({ ...opts, onEvent, onOutput: () => {} });
    return { changes: res.changeSummary ?? {} };
}

async function destroy(stack, opts, onEvent) {
    // The program runs (chart mode's tunnel to Vault must be open while Vault resources go).
    const res = await stack.destroy({ ...opts, runProgram: true, onEvent, onOutput: () => {} });
    return { changes: res.summary.resourceChanges ?? {} };
}

async function previewDestroy(stack, opts, onEvent) {
    const res = await stack.previewDestroy({ ...opts, runProgram: true, onEvent, onOutput: () => {} });
    return { changes: res.changeSummary ?? {} };
}

/** The hub's spokeEndpoints output from its state (no decryption needed: it holds no secret). */
async function deployedSpokes(hub) {
    const state = await hub.exportStack();
    const root = (state.deployment?.resources ?? []).find((r) => r.type === "pulumi:pulumi:Stack");
    return root?.outputs?.spokeEndpoints ?? {};
}

function copyConfig(file) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-hub-"));
    const copy = path.join(dir, path.basename(file));
    fs.copyFileSync(file, copy);
    return copy;
}

/** Sets the hub's `spokes` in `configFile` if it differs; returns whether it changed. */
async function setHubSpokes(fleet, configFile, spokes, envVars) {
    const env = { ...process.env, ...envVars };
    const cli = (args) =>
        new Promise((resolve, reject) =>
            execFile("pulumi", [...args, "--stack", fleet.hub.stack, "--config-file", configFile], { cwd: fleet.projectDir, env }, (err, stdout, stderr) =>
                err ? reject(new Error(`pulumi ${args[0]} ${args[1]}: ${stderr.trim() || err.message}`)) : resolve(stdout),
            ),
        );
    const current = JSON.parse(await cli(["config", "--json"]))[`${NS}:spokes`];
    const now = current ? (current.objectValue ?? JSON.parse(current.value)) : undefined;
    if (JSON.stringify(now) === JSON.stringify(spokes)) return false;
    await cli(["config", "set-all", "--json", JSON.stringify({ [`${NS}:spokes`]: { value: JSON.stringify(spokes), objectValue: spokes, secret: false } })]);
    return true;
}

/** Runs fn over items, at most n at once; resolves with the results in order. */
export async function pool(items, n, fn) {
    const out = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            out[i] = await fn(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
    return out;
}

/**
 * The useful part of an Automation API error: the engine's own error lines (with the "- ..." lines
 * that follow one, e.g. each problem of an invalid configuration), not the command line.
 */
export function failureOf(e) {
    const out = e?.commandResult ? `${e.commandResult.stdout}\n${e.commandResult.stderr}` : String(e?.message ?? e);
    const picked = [];
    let inError = false;
    for (const line of out.split("\n").map((l) => l.trim())) {
        if (/^error:|^\[mandatory\]|violation|^Error:/i.test(line) && !/Command failed with exit code/.test(line)) {
            picked.push(line);
            inError = true;
        } else if (inError && line.startsWith("- ")) picked.push(line);
        else inError = false;
    }
    const unique = [...new Set(picked)];
    return (unique.slice(0, 6).join(" | ") || out.trim().split("\n").slice(-2).join(" | ")).slice(0, 800);
}

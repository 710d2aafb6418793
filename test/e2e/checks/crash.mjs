// Engine tier, day 2: a real `pulumi up` SIGKILLed at each point of the init resource's create
// (with the provider's test-only pause there), then a plain `pulumi up`; and a Shamir stack
// migrated to a transit seal. External mode on the loopback plane (scripts/local/lib.mjs).
// `h`: the tier's helpers { dir, env, POk, P, bao, generateRoot, waitSynced, kvData }.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { STACK, cfgArgs, repoRoot, restartBao, startSealServer, waitFor, wipeBao } from "../../../scripts/local/lib.mjs";
import { assert, eq } from "../lib/assertions.mjs";

export const CRASH_POINTS = ["after-init", "mid-unseal", "after-admin", "before-revoke"];

/** Every descendant of `pid` (the language host, plugins, the dynamic provider's node process). */
function descendants(pid) {
    const children = new Map();
    for (const p of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
        try {
            const ppid = fs.readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ")[1];
            children.set(ppid, [...(children.get(ppid) ?? []), p]);
        } catch {
            /* gone */
        }
    }
    const out = [];
    const walk = (p) => (children.get(String(p)) ?? []).forEach((c) => (out.push(Number(c)), walk(c)));
    walk(pid);
    return out;
}

const alive = (pid) => {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
};

/**
 * `pulumi up --parallel 1` (nothing else in flight when the init step pauses) with the pause at
 * `point`; once there, SIGKILL pulumi and every process under it, as a cancelled CI job would.
 */
async function killedUp(h, point) {
    const pauseFile = path.join(h.dir, `pause-${point}`);
    fs.rmSync(pauseFile, { force: true });
    const child = spawn("pulumi", ["up", "--yes", "--skip-preview", "--parallel", "1", ...cfgArgs(h.dir)], {
        cwd: repoRoot,
        env: { ...h.env, VAULT_INIT_TEST_PAUSE: point, VAULT_INIT_TEST_PAUSE_FILE: pauseFile },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise((r) => child.once("exit", r));
    await waitFor(`the init step paused at ${point}`, async () => fs.existsSync(pauseFile), {
        timeoutMs: 240000,
        intervalMs: 100,
        check: () => {
            if (child.exitCode !== null && !fs.existsSync(pauseFile)) throw new Error(`pulumi up ended (exit ${child.exitCode}) before ${point}:\n${out.slice(-2000)}`);
        },
    });
    const providerPid = Number(fs.readFileSync(pauseFile, "utf8").split(" ")[1]);
    const pids = [child.pid, ...descendants(child.pid)];
    assert(pids.includes(providerPid), `the paused provider (pid ${providerPid}) is not under pulumi (${pids.join(",")})`);
    for (const pid of pids) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            /* gone */
        }
    }
    await exited;
    await waitFor("every killed process gone", async () => pids.every((p) => !alive(p)), { timeoutMs: 10000 });
    return pids.length;
}

const escrowDir = (h) => path.join(h.dir, "state", ".vault-init-escrow");

export const crashDrill = (r, h, n, point) =>
    r.check(n, `pulumi up SIGKILLed at ${point} of the init create, then pulumi up: the same Vault, its keys in the state, no second init, no live root token, escrow gone`, async () => {
        h.needsPulumi("the crash drill");
        await wipeBao(h.dir);
        const killed = await killedUp(h, point);
        const seal = await h.bao("GET", "sys/seal-status");
        assert(seal.json.initialized === true, "the killed run did not initialise OpenBao");
        const files = fs.existsSync(escrowDir(h)) ? fs.readdirSync(escrowDir(h)).map((f) => path.join(escrowDir(h), f)) : [];
        eq(files.length, 1, "escrow files after the kill");
        eq(fs.statSync(files[0]).mode & 0o777, 0o600, "escrow file mode");
        const escrowed = JSON.parse(fs.readFileSync(files[0], "utf8"));
        // Pulumi's own lock of the killed update stays (any backend): `pulumi cancel` releases it, as
        // after any killed pulumi run. Nothing of ours is needed.
        await h.POk(["cancel", "--yes", "--stack", STACK]);
        const up = await h.POk(["up", "--yes", "--skip-preview", ...cfgArgs(h.dir)]);
        const out = up.stdout + up.stderr;
        assert(/keys recovered from the escrow/.test(out), "the second up did not recover the keys from the escrow");
        assert(/escrow .* removed/.test(out), "the second up did not remove the escrow");
        const keys = await h.stackOutput("vaultUnsealKeys");
        assert(JSON.stringify(keys) === JSON.stringify(escrowed.keys), "the state's unseal keys are not those of the interrupted init");
        assert(!fs.existsSync(files[0]), `escrow ${files[0]} still there after the up`);
        // Generated with the state's keys: they are this Vault's; then count root and admin tokens.
        const root = await h.generateRoot(keys);
        try {
            const accessors = (await h.bao("GET", "auth/token/accessors?list=true", undefined, root)).json.data.keys;
            const self = (await h.bao("GET", "auth/token/lookup-self", undefined, root)).json.data.accessor;
            const roots = [];
            const admins = [];
            for (const accessor of accessors) {
                const d = (await h.bao("POST", "auth/token/lookup-accessor", { accessor }, root)).json.data;
                if ((d.policies ?? []).includes("root") && accessor !== self) roots.push(accessor);
                if ((d.policies ?? []).includes("pulumi-admin")) admins.push(accessor);
            }
            eq(roots.length, 0, "live root tokens besides the one generated to look");
            eq(admins.length, 1, "live admin tokens");
        } finally {
            await h.bao("POST", "auth/token/revoke-self", {}, root);
        }
        await h.waitSynced();
        await h.POk(["destroy", "--yes", "--skip-preview", "--run-program", ...cfgArgs(h.dir)]);
        return `killed ${killed} processes at ${point}; pulumi cancel (the dead run's lock); up ${(up.ms / 1000).toFixed(1)}s recovered the ${keys.length} keys from the escrow, synced; 1 admin token, no root token; escrow removed`;
    });

export const migrationDrill = (r, h, n) =>
    r.check(n, "Shamir stack with data -> vaultSeal transit (seal stanza on the server, restart) -> pulumi up migrates: data readable, the held keys are recovery keys, a restart auto-unseals, no changes after", async () => {
        h.needsPulumi("the migration drill");
        await wipeBao(h.dir);
        await h.POk(["up", "--yes", "--skip-preview", ...cfgArgs(h.dir)]);
        const keys = await h.stackOutput("vaultUnsealKeys");
        const before = await h.kvData("path_to_secret");
        // The documented step for an external server: its configuration gets the seal stanza, then a restart.
        const seal = await startSealServer(h.dir, { host: "127.0.0.1" });
        const stanza = `seal "transit" {\n  address = "${seal.address}"\n  key_name = "autounseal"\n  mount_path = "transit/"\n  disable_renewal = "true"\n}\n`;
        await restartBao(h.dir, { extraHcl: stanza, env: { BAO_TOKEN: seal.token } });
        const migrating = (await h.bao("GET", "sys/seal-status")).json;
        eq([migrating.sealed, migrating.migration, migrating.type], [true, true, "transit"], "seal-status after the restart (sealed, migration, type)");
        await h.POk(["config", "set", ...cfgArgs(h.dir), "--plaintext", "vault-eso-platform:vaultSeal", JSON.stringify({ type: "transit" })]);
        const up = await h.POk(["up", "--yes", "--skip-preview", ...cfgArgs(h.dir)]);
        assert(/migrating from Shamir to the transit seal/.test(up.stdout + up.stderr), "the up did not migrate the seal");
        const after = (await h.bao("GET", "sys/seal-status")).json;
        eq([after.sealed, after.type, after.recovery_seal], [false, "transit", true], "seal-status after the migration");
        eq(await h.kvData("path_to_secret"), before, "kv/path_to_secret after the migration");
        const outputs = JSON.parse((await h.POk(["stack", "output", "--json", "--stack", STACK])).stdout);
        assert("vaultRecoveryKeys" in outputs && !("vaultUnsealKeys" in outputs), `outputs after the migration: ${Object.keys(outputs).join(", ")}`);
        assert(JSON.stringify(await h.stackOutput("vaultRecoveryKeys")) === JSON.stringify(keys), "the recovery keys are not the former unseal keys");
        const t0 = Date.now();
        await restartBao(h.dir, { env: { BAO_TOKEN: seal.token } });
        await waitFor("OpenBao unsealed by itself after a restart", async () => (await h.bao("GET", "sys/seal-status")).json.sealed === false, { timeoutMs: 60000, intervalMs: 200 });
        const selfUnseal = Date.now() - t0;
        // The old unseal keys now authorise generate-root as recovery keys.
        const root = await h.generateRoot(keys);
        await h.bao("POST", "auth/token/revoke-self", {}, root);
        await h.POk(["preview", "--expect-no-changes", ...cfgArgs(h.dir)]);
        await h.waitSynced();
        return `up ${(up.ms / 1000).toFixed(1)}s migrated; data kept; recovery keys = former unseal keys (generate-root works); restart -> unsealed in ${(selfUnseal / 1000).toFixed(1)}s with no pulumi run; preview: no changes`;
    });

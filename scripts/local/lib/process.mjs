// Long-running processes of a local run: detached daemons with pid files and logs in the data dir.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { paths, sleep } from "./base.mjs";


/** Starts a long-running process detached from us (survives this script), logs and pid in the data dir. */
export function startDaemon(dir, name, bin, args, { env = process.env, cwd = dir } = {}) {
    const p = paths(dir);
    fs.mkdirSync(p.logs, { recursive: true });
    fs.mkdirSync(p.pids, { recursive: true });
    const out = fs.openSync(path.join(p.logs, `${name}.log`), "a");
    const child = spawn(bin, args, { cwd, env, detached: true, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    child.unref();
    fs.writeFileSync(path.join(p.pids, `${name}.pid`), String(child.pid));
    return child.pid;
}

export function pidOf(dir, name) {
    try {
        return Number(fs.readFileSync(path.join(paths(dir).pids, `${name}.pid`), "utf8").trim()) || undefined;
    } catch {
        return undefined;
    }
}

export function alive(pid) {
    if (!pid) return false;
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** Stops one daemon by its recorded pid (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopDaemon(dir, name, graceMs = 10000) {
    const pid = pidOf(dir, name);
    if (!alive(pid)) return;
    try {
        process.kill(pid, "SIGTERM");
    } catch {
        return;
    }
    const deadline = Date.now() + graceMs;
    while (alive(pid) && Date.now() < deadline) await sleep(100);
    if (alive(pid)) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            /* gone */
        }
    }
    while (alive(pid)) await sleep(50);
    fs.rmSync(path.join(paths(dir).pids, `${name}.pid`), { force: true });
}

/** Order matters: the supervisor first (it would restart the controller), etcd last. */
export const DAEMONS = ["eso-supervisor", "external-secrets", "bao", "seal-server", "kube-controller-manager", "kube-apiserver", "etcd"];

export async function stopAll(dir) {
    for (const name of DAEMONS) await stopDaemon(dir, name);
}

export async function waitFor(what, fn, { timeoutMs = 60000, intervalMs = 500, check } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
        try {
            const v = await fn();
            if (v) return v;
        } catch (e) {
            last = e;
        }
        if (check) check();
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${last.message}` : ""}`);
        await sleep(intervalMs);
    }
}

export function tailLog(dir, name, n = 30) {
    try {
        return fs.readFileSync(path.join(paths(dir).logs, `${name}.log`), "utf8").split("\n").slice(-n).join("\n");
    } catch {
        return "";
    }
}

export function ensureAlive(dir, names) {
    return () => {
        for (const n of names) {
            if (!alive(pidOf(dir, n))) throw new Error(`${n} exited; last log lines:\n${tailLog(dir, n)}`);
        }
    };
}


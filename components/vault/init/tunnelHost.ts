// The Vault tunnel in its own process, alive as long as the Pulumi language host that started the
// program. The engine deletes resources dropped from the program, and runs `pulumi destroy
// --run-program`'s deletes, after the program process has exited; its language host lives until
// the engine is done. A tunnel inside the program would be gone by then, so the Vault provider
// could not reach an in-cluster Vault for those deletes.
import { spawn } from "child_process";
import * as path from "path";
import { VaultTunnelArgs, openVaultTunnel } from "./tunnel";

export interface TunnelHostArgs extends VaultTunnelArgs {
    /** The host exits once this process is gone (the program's parent: Pulumi's language host). */
    watchPid: number;
    /** How long to retry a local port still held by the previous run's host. @default - 15 */
    bindRetrySeconds?: number;
}

/** Whether `pid` still runs. A zombie (exited, not yet reaped: e.g. its own parent was killed) does not. */
export const alive = (pid: number): boolean => {
    try {
        process.kill(pid, 0);
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
    try {
        // Linux: the state field follows the parenthesised command name in /proc/<pid>/stat.
        const stat = require("fs").readFileSync(`/proc/${pid}/stat`, "utf8") as string;
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
        return true;
    }
};

/** Runs in the host process: open the tunnel, say so on stdout (one JSON line), stay while watchPid lives. */
export async function hostMain(a: TunnelHostArgs): Promise<void> {
    process.stdout.on("error", () => undefined); // the program stops reading after the first line
    const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
    const deadline = Date.now() + (a.bindRetrySeconds ?? 15) * 1000;
    for (;;) {
        if (!alive(a.watchPid)) process.exit(0);
        try {
            const t = await openVaultTunnel(a);
            say({ address: t.address });
            // The tunnel's sockets are unref'ed (it is made for in-program use): this timer keeps us up.
            const timer = setInterval(() => {
                if (!alive(a.watchPid)) void t.close().then(() => process.exit(0));
            }, 500);
            process.on("SIGTERM", () => {
                clearInterval(timer);
                void t.close().then(() => process.exit(0));
            });
            return;
        } catch (e) {
            // The previous run's host may still hold the port for up to half a second after its engine ended.
            if ((e as NodeJS.ErrnoException).code === "EADDRINUSE" && Date.now() < deadline) {
                await new Promise((r) => setTimeout(r, 250));
                continue;
            }
            say({ error: (e as Error).message });
            process.exit(1);
        }
    }
}

/**
 * Starts the host, detached, and resolves with the tunnel's address once it listens. The program
 * keeps no handle on it: the host ends by itself when `watchPid` (default: our parent) ends.
 */
export function startTunnelHost(args: Omit<TunnelHostArgs, "watchPid">, watchPid = process.ppid, timeoutMs = 60000): Promise<string> {
    const entry = path.join(__dirname, "tunnel-host.js");
    const child = spawn(process.execPath, [entry, JSON.stringify({ ...args, watchPid })], {
        detached: true,
        stdio: ["ignore", "pipe", "ignore"],
        env: process.env,
    });
    return new Promise((resolve, reject) => {
        let buf = "";
        const done = (f: () => void) => {
            clearTimeout(timer);
            child.stdout!.removeAllListeners("data");
            child.stdout!.destroy();
            child.removeAllListeners("exit");
            child.unref();
            f();
        };
        const timer = setTimeout(() => done(() => reject(new Error(`the tunnel host did not listen within ${timeoutMs / 1000}s`))), timeoutMs);
        child.stdout!.on("data", (d: Buffer) => {
            buf += d.toString("utf8");
            const nl = buf.indexOf("\n");
            if (nl < 0) return;
            const msg = JSON.parse(buf.slice(0, nl)) as { address?: string; error?: string };
            done(() => (msg.address ? resolve(msg.address) : reject(new Error(msg.error ?? "tunnel host failed"))));
        });
        child.once("exit", (code) => done(() => reject(new Error(`the tunnel host exited (code ${code}) before listening`))));
        child.once("error", (e) => done(() => reject(e)));
    });
}

// Drives the serialized VaultInit provider in fresh Node processes, like the engine's dynamic provider host.
import { ChildProcess, execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const here = __dirname;
const root = path.resolve(here, "..", "..", "..");
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface OpResult {
    ok: boolean;
    result?: any;
    error?: { message: string; id?: string; properties?: Record<string, unknown> };
    /** Everything the provider printed (must never contain a key or token). */
    output: string;
}

export class ProviderRunner {
    /** Every line the provider printed across runs, for the no-leak assertion. */
    public transcript = "";
    /** Environment additions of every provider process (e.g. PULUMI_BACKEND_URL, where external mode's escrow goes). */
    public env: Record<string, string> = {};
    /** Operations still running (a timed-out test leaves one behind until cleanup() stops it). */
    private readonly running = new Set<ChildProcess>();
    private constructor(private readonly dir: string, private readonly providerFile: string) {
        // External mode's init escrow goes beside a file backend's state: here, never ~/.pulumi.
        this.env = { PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}` };
    }

    /** Where this runner's external-mode escrows are (the escrow cleanup resource is not driven here). */
    get escrowDir(): string {
        return path.join(this.dir, "state", ".vault-init-escrow");
    }

    /** What VaultInitEscrowCleanup does once the state holds the keys. */
    removeEscrows(): void {
        fs.rmSync(this.escrowDir, { recursive: true, force: true });
    }

    /**
     * A temp dir holding the serialized provider: the one the jest globalSetup serialized for this
     * run (test/support/global-setup.js, VAULT_INIT_PROVIDER_JS), else serialized here (in its own
     * process, through Pulumi's ts-node).
     */
    static async create(): Promise<ProviderRunner> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-init-provider-"));
        const file = path.join(dir, "provider.js");
        try {
            const shared = process.env.VAULT_INIT_PROVIDER_JS;
            if (shared) {
                fs.copyFileSync(shared, file);
            } else {
                await node([path.join(here, "serialize.js"), file]);
            }
        } catch (e) {
            fs.rmSync(dir, { recursive: true, force: true });
            throw e;
        }
        return new ProviderRunner(dir, file);
    }

    get serializedText(): string {
        return fs.readFileSync(this.providerFile, "utf8");
    }

    async op(op: string, ...args: unknown[]): Promise<OpResult> {
        const stamp = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
        const req = path.join(this.dir, `req-${stamp}.json`);
        const res = path.join(this.dir, `res-${stamp}.json`);
        fs.writeFileSync(req, JSON.stringify({ op, args }));
        const { stdout, stderr } = await node([path.join(here, "driver.js"), this.providerFile, req, res], this.running, this.env);
        const output = stdout + stderr;
        this.transcript += output;
        const parsed = JSON.parse(fs.readFileSync(res, "utf8"));
        fs.rmSync(req);
        fs.rmSync(res);
        return { ...parsed, output };
    }

    /**
     * Runs `op` with the provider's test-only pause at `point` (components/vault/init/escrow.ts
     * testPause), waits until it is there, then SIGKILLs the provider process, as a killed
     * `pulumi up` leaves it. `env`: the provider process's environment additions.
     */
    async opKilledAt(point: string, env: Record<string, string>, op: string, ...args: unknown[]): Promise<void> {
        const stamp = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
        const req = path.join(this.dir, `req-${stamp}.json`);
        const pause = path.join(this.dir, `pause-${stamp}`);
        fs.writeFileSync(req, JSON.stringify({ op, args }));
        const child = execFile(process.execPath, [path.join(here, "driver.js"), this.providerFile, req, path.join(this.dir, `res-${stamp}.json`)], {
            cwd: root,
            env: { ...process.env, ...this.env, ...env, VAULT_INIT_TEST_PAUSE: point, VAULT_INIT_TEST_PAUSE_FILE: pause },
        });
        let out = "";
        child.stdout?.on("data", (d) => (out += d));
        child.stderr?.on("data", (d) => (out += d));
        this.running.add(child);
        const exited = new Promise<void>((r) => child.once("exit", () => r()));
        const deadline = Date.now() + 60000;
        while (!fs.existsSync(pause)) {
            if (child.exitCode !== null || Date.now() > deadline) {
                child.kill("SIGKILL");
                throw new Error(`the provider did not reach ${point} (exit ${child.exitCode}):\n${out.slice(-2000)}`);
            }
            await new Promise((r) => setTimeout(r, 50));
        }
        child.kill("SIGKILL");
        await exited;
        this.running.delete(child);
        this.transcript += out;
    }

    cleanup(): void {
        for (const p of this.running) {
            p.kill("SIGKILL");
        }
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

function node(args: string[], running?: Set<ChildProcess>, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = execFile(process.execPath, args, { cwd: root, maxBuffer: 16 << 20, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
            running?.delete(child);
            if (err) {
                reject(new Error(`${err.message}\n${stderr}`));
            } else {
                resolve({ stdout, stderr });
            }
        });
        running?.add(child);
    });
}

/** What the engine hands back to the provider as olds: secrets unwrapped (the provider does not accept secrets). */
export function engineView(outs: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(outs)) {
        out[k] = v && typeof v === "object" && SECRET_SIG in v ? (v as unknown as { value: unknown }).value : v;
    }
    return out;
}

export function isWireSecret(v: unknown): boolean {
    return !!v && typeof v === "object" && SECRET_SIG in v;
}

/** Inputs as the resource constructor + check() would pass them. */
export function inputs(extra: Record<string, unknown>): Record<string, unknown> {
    return { secretShares: 5, secretThreshold: 3, timeoutSeconds: 30, providerVersion: 1, ...extra };
}

/** A wire value without its secret marker. */
export function unwrap(v: unknown): unknown {
    return isWireSecret(v) ? (v as { value: unknown }).value : v;
}

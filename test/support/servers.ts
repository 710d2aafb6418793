// The servers the init/unseal suites run against: OpenBao always, HashiCorp Vault when its
// binary is there. `eachServer` registers a suite's scenarios once per server, so every scenario
// runs on each; a server that is not available gets its scenarios registered as skipped, under a
// title that says why, and one warning line in the output.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { baoBinary } from "./openbao";

const repoRoot = path.resolve(__dirname, "..", "..");

export type ServerKind = "openbao" | "vault";

export interface ServerFlavor {
    kind: ServerKind;
    /** Name in test titles and messages. */
    label: string;
    /** The binary, once `resolve()` succeeded (only called for servers that run). */
    binary(): string;
    /**
     * Storage of a standalone (single-node) test server. OpenBao 2.x has only raft (integrated
     * storage); Vault keeps `file`, which the dev stack's standalone chart path uses, so Vault's
     * standalone servers use it. Multi-node servers (a `nodeId`) are raft on both.
     */
    standaloneStorage: "raft" | "file";
    /** The shape of the service tokens it issues: OpenBao keeps the `s.` prefix, Vault >= 1.10 `hvs.`. */
    tokenPattern: RegExp;
    /** Why this server's scenarios are skipped; undefined when they run. */
    skip?: string;
}

export const openBao: ServerFlavor = { kind: "openbao", label: "OpenBao", binary: baoBinary, standaloneStorage: "raft", tokenPattern: /^s\./ };

let vaultResolved: { bin?: string; skip?: string } | undefined;

/**
 * HashiCorp Vault's binary: VAULT_BIN (an error if it is not an executable Vault), else the
 * tools runner (`node tools/run.mjs --path vault`: the optional `vault` wrapper's build, or a
 * `vault` on PATH). The globalSetup looks it up once per run and passes VAULT_BIN (or
 * VAULT_UNAVAILABLE, the reason) to the test files. Never builds it (a long cold build).
 */
function resolveVault(): { bin?: string; skip?: string } {
    if (vaultResolved) {
        return vaultResolved;
    }
    let bin = process.env.VAULT_BIN;
    const explicit = !!bin && process.env.VAULT_BIN_FROM_TOOLS !== "1";
    if (!bin && process.env.VAULT_UNAVAILABLE) {
        return (vaultResolved = { skip: process.env.VAULT_UNAVAILABLE });
    }
    if (!bin) {
        try {
            bin = execFileSync(process.execPath, [path.join(repoRoot, "tools", "run.mjs"), "--path", "vault"], {
                cwd: repoRoot,
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
            }).trim();
        } catch {
            return (vaultResolved = { skip: vaultMissing });
        }
    }
    let problem: string | undefined;
    try {
        fs.accessSync(bin, fs.constants.X_OK);
        const v = spawnSync(bin, ["version"], { encoding: "utf8", timeout: 30000 });
        const said = `${v.stdout ?? ""}${v.stderr ?? ""}`.trim().split("\n")[0] || v.error?.message || `exit ${v.status}`;
        if (!/^Vault v\d/.test(said)) {
            problem = `${bin} is not HashiCorp Vault (\`version\` says: ${said})`;
        }
    } catch (e) {
        problem = `${bin} is not an executable file (${(e as NodeJS.ErrnoException).code})`;
    }
    if (problem && explicit) {
        throw new Error(`VAULT_BIN=${problem}: point it at a HashiCorp Vault binary, or unset it.`);
    }
    return (vaultResolved = problem ? { skip: problem } : { bin });
}

const vaultMissing = "its `vault` binary is not built and VAULT_BIN is not set (`npm run tools -- vault` builds HashiCorp Vault v1.21.4, a long cold build)";

export function hashicorpVault(): ServerFlavor {
    const r = resolveVault();
    return {
        kind: "vault",
        label: "HashiCorp Vault",
        binary: () => {
            if (!r.bin) {
                throw new Error(`HashiCorp Vault is not available: ${r.skip}`);
            }
            return r.bin;
        },
        standaloneStorage: "file",
        tokenPattern: /^hvs\./,
        skip: r.skip,
    };
}

/** OpenBao always; HashiCorp Vault, skipped with its reason when its binary is missing. */
export function serverFlavors(): ServerFlavor[] {
    return [openBao, hashicorpVault()];
}

/**
 * Registers `suite` once per server, inside `describe("<server>")`. A missing server's scenarios
 * are registered under `describe.skip("<server>: skipped, <why>")`, so they are listed as skipped
 * with the reason, and the file prints one line (stderr) naming the server and the reason.
 */
export function eachServer(suite: (flavor: ServerFlavor) => void): void {
    for (const flavor of serverFlavors()) {
        if (flavor.skip) {
            // One plain line (console.warn would add a code frame in every file).
            process.stderr.write(`${path.relative(repoRoot, expect.getState().testPath ?? "?")}: skipped on ${flavor.label}: ${flavor.skip}\n`);
            describe.skip(`${flavor.label}: skipped, ${flavor.skip}`, () => suite(flavor));
        } else {
            describe(flavor.label, () => suite(flavor));
        }
    }
}

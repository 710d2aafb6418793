// Crash-safe init: the keys and root token from sys/init are written to an escrow before they are
// used, so a `pulumi up` killed before the engine checkpoints them loses nothing: the next run finds
// the escrow and carries on. Chart mode: a Secret in Vault's namespace; external mode: a 0600 file
// beside a file backend's state (else under ~/.pulumi). The escrow is removed by
// VaultInitEscrowCleanup, which runs only once the state holds the keys (README "Day 2").
// Serialized into the dynamic providers: require inside, no module state.
import { loadKubeConfig } from "./forward";
import type { Inputs } from "./inputs";

export interface EscrowRecord {
    v: 1;
    /** Which Vault (targetKey): an escrow is only taken back for the same target. */
    target: string;
    keys: string[];
    rootToken: string;
    shares: number;
    threshold: number;
    /** Set as soon as the admin token exists, before the root token is revoked. */
    adminToken?: string;
    adminTokenAccessor?: string;
    createdAt: string;
}

export type EscrowLocation =
    | { kind: "secret"; namespace: string; name: string; kubeconfig?: string; context?: string }
    | { kind: "file"; path: string };

export const ESCROW_SECRET = "vault-init-escrow";

/** Where the escrow of this Vault lives (secret-free). */
export function escrowLocation(i: Pick<Inputs, "address" | "kubernetes">): EscrowLocation {
    if (i.kubernetes) {
        return { kind: "secret", namespace: i.kubernetes.namespace, name: ESCROW_SECRET, kubeconfig: i.kubernetes.kubeconfig, context: i.kubernetes.context };
    }
    const path = require("path");
    const os = require("os");
    const crypto = require("crypto");
    const backend = process.env.PULUMI_BACKEND_URL ?? "";
    const dir = backend.startsWith("file://")
        ? path.join(backend.slice("file://".length).replace(/^~(?=\/)/, os.homedir()), ".vault-init-escrow")
        : path.join(process.env.PULUMI_HOME || path.join(os.homedir(), ".pulumi"), "vault-init-escrow");
    const name = crypto.createHash("sha256").update(String(i.address ?? "")).digest("hex").slice(0, 16);
    return { kind: "file", path: path.join(dir, `${name}.json`) };
}

export function describeEscrow(loc: EscrowLocation): string {
    return loc.kind === "secret" ? `Secret ${loc.namespace}/${loc.name}` : loc.path;
}

function coreApi(loc: Extract<EscrowLocation, { kind: "secret" }>): any {
    const k8s = require("@kubernetes/client-node");
    return loadKubeConfig({ kubeconfig: loc.kubeconfig, context: loc.context }).makeApiClient(k8s.CoreV1Api);
}

const statusOf = (e: unknown): number | undefined => (e as { code?: number; statusCode?: number }).code ?? (e as { statusCode?: number }).statusCode;

/** Writes (or replaces) the escrow. Throws on failure: the caller decides what that means. */
export async function writeEscrow(loc: EscrowLocation, rec: EscrowRecord): Promise<void> {
    const data = JSON.stringify(rec);
    if (loc.kind === "file") {
        const fs = require("fs");
        const path = require("path");
        fs.mkdirSync(path.dirname(loc.path), { recursive: true, mode: 0o700 });
        const tmp = `${loc.path}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, data, { mode: 0o600 });
        fs.renameSync(tmp, loc.path);
        return;
    }
    const api = coreApi(loc);
    const body = {
        apiVersion: "v1",
        kind: "Secret",
        type: "Opaque",
        metadata: {
            name: loc.name,
            namespace: loc.namespace,
            labels: { "app.kubernetes.io/managed-by": "vault-eso-platform", "app.kubernetes.io/component": "vault-init-escrow" },
            annotations: { "vault-eso-platform/why": "keys of a Vault init not yet in the Pulumi state; removed once they are" },
        },
        data: { escrow: Buffer.from(data).toString("base64") },
    };
    try {
        await api.createNamespacedSecret({ namespace: loc.namespace, body });
    } catch (e) {
        if (statusOf(e) !== 409) throw e;
        await api.replaceNamespacedSecret({ name: loc.name, namespace: loc.namespace, body });
    }
}

export async function readEscrow(loc: EscrowLocation): Promise<EscrowRecord | undefined> {
    if (loc.kind === "file") {
        const fs = require("fs");
        if (!fs.existsSync(loc.path)) return undefined;
        return JSON.parse(fs.readFileSync(loc.path, "utf8")) as EscrowRecord;
    }
    try {
        const s = await coreApi(loc).readNamespacedSecret({ name: loc.name, namespace: loc.namespace });
        const b64 = s?.data?.escrow;
        return b64 ? (JSON.parse(Buffer.from(b64, "base64").toString("utf8")) as EscrowRecord) : undefined;
    } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw e;
    }
}

/** Removes the escrow; true if there was one. */
export async function removeEscrow(loc: EscrowLocation): Promise<boolean> {
    if (loc.kind === "file") {
        const fs = require("fs");
        if (!fs.existsSync(loc.path)) return false;
        fs.rmSync(loc.path, { force: true });
        return true;
    }
    try {
        await coreApi(loc).deleteNamespacedSecret({ name: loc.name, namespace: loc.namespace });
        return true;
    } catch (e) {
        if (statusOf(e) === 404) return false;
        throw e;
    }
}

/**
 * Test-only: with VAULT_INIT_TEST_PAUSE=<point> and VAULT_INIT_TEST_PAUSE_FILE=<path> in the
 * provider's environment, writes the file at that point and waits forever, so a drill can SIGKILL
 * `pulumi` exactly there. Points: after-init, mid-unseal, after-admin, before-revoke.
 */
export async function testPause(point: string): Promise<void> {
    if (!process.env.VAULT_INIT_TEST_PAUSE || process.env.VAULT_INIT_TEST_PAUSE !== point || !process.env.VAULT_INIT_TEST_PAUSE_FILE) return;
    require("fs").writeFileSync(process.env.VAULT_INIT_TEST_PAUSE_FILE, `${point} ${process.pid}\n`);
    await new Promise(() => undefined);
}

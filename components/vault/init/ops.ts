// Vault operations (init, unseal, raft join, token check) on one target.
// Serialized into the dynamic provider: no module state, no imports used at run time except ./client.
import { Target, redact, responseError, vaultCall } from "./client";
import { testPause } from "./escrow";

export interface SealStatus {
    type: string;
    initialized: boolean;
    sealed: boolean;
    t: number;
    n: number;
    progress: number;
    version?: string;
    cluster_id?: string;
    recovery_seal?: boolean;
    /** The server's configured seal differs from the stored one: unseal with `migrate` to switch. */
    migration?: boolean;
}

/** Waits until Vault answers, then returns its seal status. */
export async function sealStatus(t: Target, deadline: number, secrets: string[]): Promise<SealStatus> {
    const r = await vaultCall(t, "GET", "sys/seal-status", { deadline, secrets });
    if (r.status !== 200 || !r.json) {
        throw responseError(t, "GET /v1/sys/seal-status", r, secrets);
    }
    return r.json as SealStatus;
}

export function isAutoUnseal(s: SealStatus): boolean {
    return s.type !== "shamir" || s.recovery_seal === true;
}

export async function isInitialized(t: Target, deadline: number, secrets: string[]): Promise<boolean> {
    const r = await vaultCall(t, "GET", "sys/init", { deadline, secrets });
    if (r.status !== 200 || !r.json) {
        throw responseError(t, "GET /v1/sys/init", r, secrets);
    }
    return r.json.initialized === true;
}

export interface InitResult {
    keys: string[];
    rootToken: string;
}

export interface InitRequest {
    shares: number;
    threshold: number;
    pgpKeys?: string[];
    rootTokenPgpKey?: string;
    autoUnseal: boolean;
}

/** PUT sys/init. Not retried on 5xx once sent: a repeated init could only fail, never double-initialise. */
export async function initVault(t: Target, req: InitRequest, deadline: number, secrets: string[]): Promise<InitResult> {
    const body: Record<string, unknown> = req.autoUnseal
        ? { recovery_shares: req.shares, recovery_threshold: req.threshold }
        : { secret_shares: req.shares, secret_threshold: req.threshold };
    if (req.pgpKeys && req.pgpKeys.length > 0) {
        body[req.autoUnseal ? "recovery_pgp_keys" : "pgp_keys"] = req.pgpKeys;
    }
    if (req.rootTokenPgpKey) {
        body.root_token_pgp_key = req.rootTokenPgpKey;
    }
    const r = await vaultCall(t, "PUT", "sys/init", { body, deadline, secrets, accept: () => true });
    if (r.status !== 200 || !r.json || typeof r.json.root_token !== "string") {
        throw responseError(t, "PUT /v1/sys/init", r, secrets);
    }
    const keys: string[] = req.autoUnseal ? r.json.recovery_keys_base64 ?? [] : r.json.keys_base64 ?? [];
    return { keys, rootToken: r.json.root_token };
}

/** Polls until the target reports unsealed (auto-unseal, raft follower catching up). */
export async function waitUnsealed(t: Target, deadline: number, secrets: string[]): Promise<SealStatus> {
    for (;;) {
        const s = await sealStatus(t, deadline, secrets);
        if (!s.sealed) {
            return s;
        }
        if (Date.now() > deadline) {
            throw new Error(redact(`${t.label}: still sealed (type ${s.type}, initialized ${s.initialized}) when the timeout expired`, secrets));
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}

/**
 * Shamir unseal. Progress left by someone else is reset first: we cannot know which keys were
 * submitted, and a wrong one would make our attempt fail. Reset only discards in-memory progress.
 */
export async function unsealShamir(t: Target, keys: string[], deadline: number, secrets: string[], migrate = false): Promise<SealStatus> {
    const s = await sealStatus(t, deadline, secrets);
    if (!s.sealed) {
        return s;
    }
    if (s.progress > 0) {
        const r = await vaultCall(t, "PUT", "sys/unseal", { body: { reset: true }, deadline, secrets });
        if (r.status !== 200) {
            throw responseError(t, "unseal reset", r, secrets);
        }
    }
    const needed = s.t > 0 ? s.t : keys.length;
    if (keys.length < needed) {
        throw new Error(`${t.label}: unseal needs ${needed} keys but only ${keys.length} are available`);
    }
    for (const key of keys.slice(0, needed)) {
        const r = await vaultCall(t, "PUT", "sys/unseal", { body: migrate ? { key, migrate: true } : { key }, deadline, secrets });
        if (r.status !== 200 || !r.json) {
            throw responseError(t, "unseal (wrong or foreign unseal key?)", r, secrets);
        }
        if (r.json.sealed === false) {
            return r.json as SealStatus;
        }
        await testPause("mid-unseal");
    }
    // A raft follower finishes joining after the last key; anything else failing here times out clearly.
    return waitUnsealed(t, deadline, secrets);
}

/** Joins an uninitialised raft follower to the leader (no-op if it already belongs to a cluster). */
export async function raftJoin(
    t: Target,
    leaderApiAddr: string,
    leaderCaCert: string | undefined,
    deadline: number,
    secrets: string[],
): Promise<void> {
    if (await isInitialized(t, deadline, secrets)) {
        return;
    }
    const body: Record<string, unknown> = { leader_api_addr: leaderApiAddr };
    if (leaderCaCert && leaderApiAddr.startsWith("https:")) {
        body.leader_ca_cert = leaderCaCert;
    }
    const r = await vaultCall(t, "POST", "sys/storage/raft/join", { body, deadline, secrets });
    if (r.status !== 200 || !r.json || r.json.joined !== true) {
        throw responseError(t, "POST /v1/sys/storage/raft/join", r, secrets);
    }
}

/**
 * Checks that the token is valid (lookup-self); retries while the node is sealed/standby: 5xx, and
 * the 307 a raft node unsealed a moment ago answers while it is still standby (it redirects to the
 * active node it last knew, itself, until it wins the election).
 */
export async function verifyToken(t: Target, token: string, deadline: number, secrets: string[]): Promise<void> {
    const accept = (s: number) => s < 500 && s !== 429 && !(s >= 300 && s < 400);
    const r = await vaultCall(t, "GET", "auth/token/lookup-self", { token, deadline, secrets, accept });
    if (r.status !== 200) {
        throw responseError(t, "root token check (GET /v1/auth/token/lookup-self); is the token right?", r, secrets);
    }
}

/**
 * The node for authenticated requests. Under HA a standby answers them with a 307 to the active
 * node's own address, which is not reachable through a port-forward; after a failover the active
 * node is not the first pod. sys/leader (unauthenticated) names it: `is_self`, or `ha_enabled: false`
 * for a single node. Polls every 250 ms (an election is over in about a second with Raft's production
 * timing) for up to a minute, then falls back to the first target.
 */
export async function activeTarget(targets: Target[], deadline: number, secrets: string[]): Promise<Target> {
    // One server too: a single raft node unsealed a moment ago is a standby (307 on token calls)
    // until it has elected itself; a server without HA answers ha_enabled false at once.
    const until = Math.min(deadline, Date.now() + 60000);
    for (;;) {
        for (const t of targets) {
            const r = await vaultCall(t, "GET", "sys/leader", { deadline: until, secrets }).catch(() => undefined);
            if (r && r.status === 200 && r.json && (r.json.ha_enabled === false || r.json.is_self === true)) {
                return t;
            }
        }
        if (Date.now() > until) {
            return targets[0];
        }
        await new Promise((res) => setTimeout(res, 250));
    }
}

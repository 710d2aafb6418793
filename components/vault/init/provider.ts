// The dynamic provider. The engine serializes this object (and everything it reaches) with
// pulumi.runtime.serializeFunction and runs it in a separate process: methods reach helpers only
// through function references and `require`, never through module state or captured clients.
import type * as pulumi from "@pulumi/pulumi";
import { Target } from "./client";
import { connect, targetKey } from "./connect";
import { converge, fingerprint, Held } from "./converge";
import { Inputs, Outputs, hasUnknown, validate, withDefaults } from "./inputs";
import { newAdminTokenId, renewSelf, tokenState, tokenTtl } from "./admin";
import { activeTarget, sealStatus } from "./ops";

/** Bump when provider behaviour changes, so existing stacks run an update with the new code. */
export const PROVIDER_VERSION = 3;

/** Pulumi's wire marker for a secret value: keeps keys secret even in partial or refreshed state. */
export function secretValue(value: unknown): unknown {
    return { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value };
}

export function unwrapSecret<T>(v: unknown): T {
    if (v && typeof v === "object" && "4dabf18193072939515e22adb298388d" in v) {
        return (v as unknown as { value: T }).value;
    }
    return v as T;
}

/** Outputs as handed to the engine, with keys and token explicitly secret. */
export function toWire(o: Outputs): Record<string, unknown> {
    // JSON round trip drops undefined fields, which protobuf Struct cannot encode.
    const plain = JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
    return { ...plain, rootToken: secretValue(o.rootToken), adminToken: secretValue(o.adminToken ?? ""), unsealKeys: secretValue(o.unsealKeys) };
}

export function heldFrom(olds: Record<string, unknown>): Held {
    return {
        rootToken: unwrapSecret<string>(olds.rootToken) || undefined,
        unsealKeys: unwrapSecret<string[] | undefined>(olds.unsealKeys),
        keysEncrypted: olds.keysEncrypted === true,
        rootTokenEncrypted: olds.rootTokenEncrypted === true,
        secretShares: olds.secretShares as number | undefined,
        secretThreshold: olds.secretThreshold as number | undefined,
        adminToken: unwrapSecret<string>(olds.adminToken) || undefined,
        adminTokenAccessor: (olds.adminTokenAccessor as string | undefined) || undefined,
        adminPolicy: olds.adminPolicy as string | undefined,
        adminTokenPeriod: olds.adminTokenPeriod as string | undefined,
        adoptFingerprint: olds.adoptFingerprint as string | undefined,
    };
}

export function logInfo(msg: string): void {
    // Messages are built without keys/tokens; the engine shows them in the update log.
    require("@pulumi/pulumi").log.info(msg);
}

export function checkedInputs(raw: Record<string, unknown>): Inputs {
    const i = withDefaults(raw);
    const failures = validate(i);
    if (failures.length > 0) {
        throw new Error(`VaultInit: invalid inputs: ${failures.map((f) => f.reason).join("; ")}`);
    }
    return i;
}

/**
 * Returns the labels of targets that are sealed (or unreachable) within a short probe timeout.
 * With `adminToken`, when every target is unsealed, also checks the admin token on the leader and
 * renews it (a harmless side effect: the token value does not change); "admin token" in the list
 * when it has expired or was revoked.
 */
export async function sealedTargets(i: Inputs, probeSeconds: number, adminToken?: string): Promise<string[]> {
    const conn = await connect(i);
    const deadline = Date.now() + probeSeconds * 1000;
    try {
        const out: string[] = [];
        for (const t of conn.targets as Target[]) {
            try {
                if ((await sealStatus(t, deadline, [])).sealed) {
                    out.push(t.label);
                }
            } catch {
                out.push(`${t.label} (unreachable)`);
            }
        }
        if (adminToken && out.length === 0) {
            const leader = await activeTarget(conn.targets as Target[], deadline, []);
            try {
                if ((await tokenState(leader, adminToken, deadline, [adminToken])) === "valid") {
                    await renewSelf(leader, adminToken, deadline, [adminToken]);
                } else {
                    out.push("admin token");
                }
            } catch (e) {
                // Not decisive (e.g. a standby still electing): the update would only renew it.
                logInfo(`VaultInit: could not check the admin token (${(e as Error).message})`);
            }
        }
        return out;
    } finally {
        await conn.close();
    }
}

async function wrapCreateErrors<T>(f: () => Promise<T>): Promise<T> {
    try {
        return await f();
    } catch (e) {
        const err = e as Error & { properties?: Outputs };
        if (err.properties) {
            (err as unknown as { properties: unknown }).properties = toWire(err.properties);
        }
        throw err;
    }
}

/**
 * What check() carries in the inputs, so that a preview (which shows an update's inputs as its
 * outputs) knows what the Vault provider is configured with:
 * - the admin token the resource should hold after this run: the one held while it lives (renewed
 *   here), a fresh value once it is expired or revoked;
 * - the server's version (sys/seal-status answers it even sealed), the provider's version override.
 * `held` comes from the old inputs (check() never sees outputs); none means a create, where Vault
 * may not exist yet: nothing is probed. A sealed Vault cannot tell about the token (kept; the
 * update decides once unsealed); an unreachable one keeps both.
 */
export async function carried(i: Inputs, held: { adminToken?: string; vaultVersion?: string } | undefined, probeSeconds: number): Promise<{ adminToken: string; vaultVersion?: string }> {
    if (!held) return { adminToken: newAdminTokenId() };
    const keep = { adminToken: held.adminToken ?? newAdminTokenId(), vaultVersion: held.vaultVersion };
    if (hasUnknown(i.address) || hasUnknown(i.kubernetes) || validate(i).length > 0) return keep;
    let conn: Awaited<ReturnType<typeof connect>> | undefined;
    const secrets = held.adminToken ? [held.adminToken] : [];
    try {
        conn = await connect(i);
        const deadline = Date.now() + probeSeconds * 1000;
        const targets = conn.targets as Target[];
        const status = await sealStatus(targets[0], deadline, secrets);
        const vaultVersion = status.version || held.vaultVersion;
        if (status.sealed || !held.adminToken) return { ...keep, vaultVersion };
        const leader = await activeTarget(targets, deadline, secrets);
        const ttl = await tokenTtl(leader, held.adminToken, deadline, secrets);
        if (ttl === undefined) {
            logInfo("VaultInit: the admin token has expired or was revoked; the update mints a new one (generate-root with the stored keys, then the root token is revoked)");
            return { adminToken: newAdminTokenId(), vaultVersion };
        }
        // Renewed once min(1 h, a tenth of the period) has passed since the last renewal: a live token
        // never ages out between runs, and most previews write nothing.
        const period = periodSeconds(i.adminTokenPeriod);
        if (ttl < period - Math.min(3600, period / 10)) await renewSelf(leader, held.adminToken, deadline, secrets);
        return { adminToken: held.adminToken, vaultVersion };
    } catch (e) {
        logInfo(`VaultInit: could not probe Vault (${(e as Error).message}); keeping the admin token and version`);
        return keep;
    } finally {
        await conn?.close();
    }
}

export function periodSeconds(period: string): number {
    const m = /^(\d+)([smh]?)$/.exec(period);
    if (!m) return 0;
    return Number(m[1]) * ({ s: 1, m: 60, h: 3600 } as Record<string, number>)[m[2] || "s"];
}

export const vaultInitProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: Record<string, unknown>, news: Record<string, unknown>) {
        const inputs = withDefaults(news);
        const failures = validate(inputs);
        if (failures.length > 0) return { inputs, failures };
        const create = Object.keys(olds).length === 0;
        const held = create ? undefined : { adminToken: unwrapSecret<string>(olds.adminToken) || undefined, vaultVersion: (olds.vaultVersion as string | undefined) || undefined };
        const c = await carried(inputs, held, Math.min(20, inputs.timeoutSeconds));
        return { inputs: { ...inputs, adminToken: secretValue(c.adminToken), ...(c.vaultVersion ? { vaultVersion: c.vaultVersion } : {}) }, failures };
    },

    async create(raw: Record<string, unknown>) {
        const i = checkedInputs(raw);
        return wrapCreateErrors(async () => {
            const { id, outs } = await converge(i, undefined, logInfo);
            return { id, outs: toWire(outs) };
        });
    },

    async diff(_id: string, olds: Record<string, unknown>, newsRaw: Record<string, unknown>) {
        const news = withDefaults(newsRaw);
        const o = olds as unknown as Outputs;
        const changed =
            o.providerVersion !== news.providerVersion ||
            o.target !== targetKey(news) ||
            (o.caCert ?? "") !== (news.caCert ?? "") ||
            (o.tlsServerName ?? "") !== (news.tlsServerName ?? "") ||
            (o.raftLeaderApiAddr ?? "") !== (news.raftLeaderApiAddr ?? "") ||
            o.timeoutSeconds !== news.timeoutSeconds ||
            (o.adminPolicy ?? "") !== (news.adminPolicy ?? "") ||
            (o.adminTokenPeriod ?? "768h") !== news.adminTokenPeriod ||
            o.secretShares !== news.secretShares ||
            o.secretThreshold !== news.secretThreshold ||
            (o.adoptFingerprint ?? "") !== fingerprint(news);
        // Never `replaces`: replacing would mean initialising a new Vault, i.e. losing the data.
        const result = { changes: true, replaces: [] as string[], deleteBeforeReplace: false };
        if (changed || hasUnknown(news) || validate(news).length > 0) {
            return result;
        }
        // A new server version (an image upgrade): the Vault provider's version override follows it.
        const wantedVersion = (newsRaw.vaultVersion as string | undefined) || "";
        if (wantedVersion && o.vaultVersion && wantedVersion !== o.vaultVersion) {
            logInfo(`VaultInit: the server now runs ${wantedVersion} (was ${o.vaultVersion}); the update records it`);
            return result;
        }
        // check() chose the token: the held one while it lives, else a fresh one (a change). A state
        // from before check() chose it holds a token check() never saw: while that one lives, the
        // fresh value waits for the next update (and is minted then), so it is no change either.
        const heldToken = unwrapSecret<string>(olds.adminToken) || undefined;
        const wanted = unwrapSecret<string>(newsRaw.adminToken) || undefined;
        const differs = !!heldToken && !!wanted && wanted !== heldToken;
        // The other drift is a sealed node (restart, reschedule). Probe briefly; a differing token is
        // probed too: dead means replace it now, alive means an older state (renewed, kept for now).
        const sealed = await sealedTargets(news, Math.min(20, news.timeoutSeconds), differs ? heldToken : undefined);
        if (sealed.includes("admin token")) {
            logInfo("VaultInit: the admin token has expired or was revoked; the update replaces it (generate-root with the stored keys, then the root token is revoked)");
        }
        const nodes = sealed.filter((s) => s !== "admin token");
        if (nodes.length > 0) {
            // Dynamic providers cannot return a detailed diff: say why the update is planned.
            logInfo(`VaultInit: sealed: ${nodes.join(", ")}; the update unseals`);
        }
        return { ...result, changes: sealed.length > 0 };
    },

    async update(_id: string, olds: Record<string, unknown>, newsRaw: Record<string, unknown>) {
        const i = checkedInputs(newsRaw);
        const held = heldFrom(olds);
        if (
            (held.secretShares !== undefined && held.secretShares !== i.secretShares) ||
            (held.secretThreshold !== undefined && held.secretThreshold !== i.secretThreshold)
        ) {
            throw new Error(
                `VaultInit: changing secretShares/secretThreshold from ${held.secretThreshold}-of-${held.secretShares} to ` +
                    `${i.secretThreshold}-of-${i.secretShares} needs a rekey (\`bao operator rekey\`), which this provider ` +
                    "does not do. Nothing was changed; revert the inputs, or rekey manually and adopt the new keys.",
            );
        }
        const { outs } = await converge(i, held, logInfo);
        return { outs: toWire(outs) };
    },

    async read(id: string, props: Record<string, unknown>) {
        // Refresh reports seal state but must never drop the keys: on any failure keep the state as is.
        const plain = { ...props, rootToken: unwrapSecret(props.rootToken), adminToken: unwrapSecret(props.adminToken), unsealKeys: unwrapSecret(props.unsealKeys) };
        let sealed: string[] = (props.sealedTargets as string[] | undefined) ?? [];
        try {
            const raw = olderInputsFromOutputs(props);
            if (raw) {
                sealed = (await sealedTargets(raw, 20)).filter((x) => x !== "admin token");
            }
        } catch (e) {
            logInfo(`VaultInit: refresh could not probe Vault (${(e as Error).message}); state kept as is`);
        }
        return { id, props: toWire({ ...(plain as unknown as Outputs), sealedTargets: sealed }) };
    },

    async delete(_id: string, props: Record<string, unknown>) {
        logInfo(`VaultInit: delete of ${String(props.address)} only forgets it: Vault is not sealed and its data and keys are untouched (save the keys first if you still need them)`);
    },
};

/**
 * read() only has the outputs. A direct address is enough to probe; a Kubernetes target needs
 * the kubeconfig, which is not kept in outputs, so refresh falls back to the default kubeconfig.
 */
export function olderInputsFromOutputs(props: Record<string, unknown>): Inputs | undefined {
    const target = String(props.target ?? "");
    const m = /^k8s:\/\/([^/]+)\/([^:]+):(\d+)\/(https?)@(.*)$/.exec(target);
    const base = { secretShares: 1, secretThreshold: 1, timeoutSeconds: 20, providerVersion: 0, adminTokenPeriod: "768h", caCert: props.caCert as string | undefined, tlsServerName: props.tlsServerName as string | undefined };
    if (m) {
        const kubernetes = { namespace: m[1], podNames: m[2].split(","), port: Number(m[3]), scheme: m[4] as "http" | "https", context: m[5] || undefined };
        return { ...base, kubernetes };
    }
    return target ? { ...base, address: target } : undefined;
}

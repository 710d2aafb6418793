// The one algorithm behind create and update: reach Vault, init if (and only if) allowed, unseal every node.
import { Target } from "./client";
import { connect, displayAddress, targetKey } from "./connect";
import { ADMIN_POLICY_NAME, AdminToken, adminPolicyHcl, generateRoot, mintAdmin, renewSelf, revokeStrayAdmins, rewritePolicy, tokenState } from "./admin";
import { EscrowRecord, describeEscrow, escrowLocation, readEscrow, testPause, writeEscrow } from "./escrow";
import { Inputs, Outputs } from "./inputs";
import { activeTarget, SealStatus, initVault, isAutoUnseal, isInitialized, raftJoin, sealStatus, unsealShamir, verifyToken, waitUnsealed } from "./ops";

/** Keys/token we already hold (from state) — absent on create. */
export interface Held {
    rootToken?: string;
    unsealKeys?: string[];
    keysEncrypted?: boolean;
    rootTokenEncrypted?: boolean;
    secretShares?: number;
    secretThreshold?: number;
    adminToken?: string;
    adminTokenAccessor?: string;
    adminPolicy?: string;
    adminTokenPeriod?: string;
    adoptFingerprint?: string;
}

export function fingerprint(i: Inputs): string {
    if (!i.adoptUnsealKeys && !i.adoptRootToken) {
        return "";
    }
    const h = require("crypto").createHash("sha256");
    h.update(JSON.stringify([i.adoptUnsealKeys ?? [], i.adoptRootToken ?? ""]));
    return h.digest("hex");
}

/** Message for "initialised by someone else": actionable, and we changed nothing. */
export function adoptHelp(label: string): string {
    return (
        `${label} is already initialised and this stack holds no unseal keys/root token for it. ` +
        "Nothing was changed. To adopt it, supply its keys and root token as secret config, e.g. " +
        "`pulumi config set --secret --path 'vaultAdoptUnsealKeys[0]' <key1>` (repeat for [1], [2], ...) and " +
        "`pulumi config set --secret vaultAdoptRootToken <token>`, then run `pulumi up` again. " +
        "This provider never re-initialises or wipes a Vault."
    );
}

/** An error the engine records as "created but failed to initialise", keeping `properties` in the state. */
export function partialInitError(message: string, id: string, properties: Outputs): Error {
    return Object.assign(new Error(message), { id, properties, reasons: [message] });
}

export async function converge(i: Inputs, held: Held | undefined, log: (m: string) => void): Promise<{ id: string; outs: Outputs }> {
    const adopting = !!(i.adoptUnsealKeys || i.adoptRootToken);
    const secrets = [...(i.adoptUnsealKeys ?? []), i.adoptRootToken ?? "", ...(held?.unsealKeys ?? []), held?.rootToken ?? "", held?.adminToken ?? "", i.adminToken ?? ""];
    const deadline = Date.now() + i.timeoutSeconds * 1000;
    const conn = await connect(i);
    try {
        const [leader, ...followers] = conn.targets;
        const status = await sealStatus(leader, deadline, secrets);
        if (status.migration && status.type === "shamir") {
            throw new Error(
                `${leader.label} is configured to migrate from its auto-unseal seal back to Shamir keys. This program does not drive that ` +
                    "direction (the recovery keys it holds would have to become unseal keys). Nothing was changed: put the auto-unseal " +
                    "seal back (vaultSeal), or migrate by hand (`vault operator unseal -migrate` with the recovery keys, seal stanza " +
                    "`disabled = \"true\"`), then adopt the keys with vaultAdoptUnsealKeys.",
            );
        }
        const auto = isAutoUnseal(status);
        let keys = i.adoptUnsealKeys ?? held?.unsealKeys;
        // An adopted root token is used once (then revoked): only a new adoption brings it in.
        const newAdoption = !!i.adoptRootToken && fingerprint(i) !== (held?.adoptFingerprint ?? "");
        let token = newAdoption ? i.adoptRootToken : held?.rootToken || undefined;
        let keysEncrypted = i.adoptUnsealKeys ? false : held?.keysEncrypted ?? false;
        let tokenEncrypted = i.adoptRootToken ? false : held?.rootTokenEncrypted ?? false;
        let shares = held?.secretShares ?? i.secretShares;
        let threshold = held?.secretThreshold ?? i.secretThreshold;
        let initialisedNow = false;
        let admin: AdminToken | undefined = held?.adminToken ? { token: held.adminToken, accessor: held.adminTokenAccessor ?? "" } : undefined;
        const loc = escrowLocation(i);
        let escrow: EscrowRecord | undefined;
        let recovered = false;
        const saveEscrow = async (rec: EscrowRecord): Promise<void> => {
            try {
                await writeEscrow(loc, rec);
            } catch (e) {
                log(`VaultInit: WARNING: could not write the init escrow ${describeEscrow(loc)} (${(e as Error).message}); if this run dies before the state is saved, the keys are lost`);
            }
        };

        if (!(await isInitialized(leader, deadline, secrets))) {
            if (held) {
                throw new Error(
                    `${leader.label} is not initialised, but this stack holds keys of a Vault that was. Refusing to ` +
                        "re-initialise: if its storage was wiped on purpose, remove this resource from the state " +
                        "(`pulumi state delete <urn>`) after saving the old keys, then run `pulumi up`.",
                );
            }
            if (adopting) {
                throw new Error(`${leader.label} is not initialised, but adoptUnsealKeys/adoptRootToken are set. Nothing was changed; remove the adopt config to let this stack initialise it.`);
            }
            const res = await initVault(leader, { shares: i.secretShares, threshold: i.secretThreshold, pgpKeys: i.pgpKeys, rootTokenPgpKey: i.rootTokenPgpKey, autoUnseal: auto }, deadline, secrets);
            secrets.push(...res.keys, res.rootToken);
            // Before the keys are used: until the engine checkpoints them, the escrow is their only copy.
            escrow = { v: 1, target: targetKey(i), keys: res.keys, rootToken: res.rootToken, shares: i.secretShares, threshold: i.secretThreshold, createdAt: new Date().toISOString() };
            await saveEscrow(escrow);
            await testPause("after-init");
            keys = res.keys;
            token = res.rootToken;
            keysEncrypted = !!i.pgpKeys && i.pgpKeys.length > 0;
            tokenEncrypted = !!i.rootTokenPgpKey;
            shares = i.secretShares;
            threshold = i.secretThreshold;
            initialisedNow = true;
            log(`VaultInit: initialised ${leader.label} (${auto ? "recovery" : "unseal"} keys ${threshold}/${shares}, seal ${status.type})`);
        } else if (!keys && !token && !adopting && (escrow = await readEscrow(loc)) && escrow.target === targetKey(i)) {
            // A run that initialised this Vault died before the state held the keys: take them back.
            keys = escrow.keys;
            token = escrow.rootToken;
            shares = escrow.shares;
            threshold = escrow.threshold;
            admin = escrow.adminToken ? { token: escrow.adminToken, accessor: escrow.adminTokenAccessor ?? "" } : undefined;
            secrets.push(...keys, token, admin?.token ?? "");
            recovered = true;
            initialisedNow = true;
            log(`VaultInit: ${leader.label} was initialised by an interrupted run: keys recovered from the escrow (${describeEscrow(loc)}); no second init`);
        } else if (!keys && !token) {
            throw new Error(adoptHelp(leader.label));
        } else if (adopting && !auto && status.n > 0 && (status.n !== i.secretShares || status.t !== i.secretThreshold)) {
            throw new Error(`${leader.label} uses ${status.t}-of-${status.n} unseal keys; set secretShares=${status.n} and secretThreshold=${status.t} to adopt it. Nothing was changed.`);
        } else if (adopting && !auto) {
            shares = status.n;
            threshold = status.t;
        }

        const outs = (final: SealStatus | undefined): Outputs => ({
            rootToken: token ?? "",
            adminToken: admin?.token ?? "",
            adminTokenAccessor: admin?.accessor ?? "",
            adminPolicy: i.adminPolicy ?? "",
            adminTokenPeriod: i.adminTokenPeriod,
            unsealKeys: keys ?? [],
            sealType: (final ?? status).type,
            secretShares: shares,
            secretThreshold: threshold,
            vaultVersion: (final ?? status).version ?? "",
            address: displayAddress(i),
            keysEncrypted,
            rootTokenEncrypted: tokenEncrypted,
            target: targetKey(i),
            caCert: i.caCert,
            tlsServerName: i.tlsServerName,
            raftLeaderApiAddr: i.raftLeaderApiAddr,
            timeoutSeconds: i.timeoutSeconds,
            providerVersion: i.providerVersion,
            adoptFingerprint: fingerprint(i),
            sealedTargets: [],
        });
        const id = status.cluster_id || `vault-${require("crypto").randomUUID()}`;
        try {
            const unseal = async (t: Target): Promise<SealStatus> => {
                const m = await sealStatus(t, deadline, secrets);
                if (m.sealed && m.migration) {
                    // Shamir -> auto-unseal: the server now has the new seal stanza; the stored unseal
                    // keys unseal it once more with `migrate`, and are its recovery keys from then on.
                    if (!keys || keys.length === 0 || keysEncrypted) {
                        throw new Error(`${t.label} is migrating to a ${m.type} seal and needs the Shamir unseal keys once; supply them via adoptUnsealKeys.`);
                    }
                    log(`VaultInit: ${t.label}: migrating from Shamir to the ${m.type} seal; the unseal keys become its recovery keys`);
                    return unsealShamir(t, keys, deadline, secrets, true);
                }
                if (auto) {
                    return waitUnsealed(t, deadline, secrets);
                }
                const s = await sealStatus(t, deadline, secrets);
                if (!s.sealed) {
                    return s;
                }
                if (!keys || keys.length === 0) {
                    throw new Error(`${t.label} is sealed and no unseal keys are known; supply them via adoptUnsealKeys.`);
                }
                if (keysEncrypted) {
                    throw new Error(`${t.label} is sealed and the stored unseal keys are PGP-encrypted (pgpKeys). Decrypt them and supply them via adoptUnsealKeys (secret config), then run \`pulumi up\` again.`);
                }
                return unsealShamir(t, keys, deadline, secrets);
            };
            const final = await unseal(leader);
            for (const f of followers) {
                if (i.raftLeaderApiAddr) {
                    await raftJoin(f, i.raftLeaderApiAddr, i.caCert, deadline, secrets);
                }
                await unseal(f);
            }
            log(`VaultInit: ${conn.targets.map((t) => t.label).join(", ")} unsealed`);
            // Token work goes to the active node: after a failover that is not the first pod.
            const active = await activeTarget(conn.targets, deadline, secrets);
            let rootIsFresh = initialisedNow || newAdoption;
            if (newAdoption && admin?.token && (await tokenState(active, token as string, deadline, secrets)) === "invalid") {
                // E.g. new adopted keys next to the adopted root token this provider already used and revoked.
                log("VaultInit: adoptRootToken is no longer valid (used and revoked already?); keeping the admin token");
                token = undefined;
                rootIsFresh = false;
            } else if (newAdoption) {
                // Adopted: the given token is checked, used once to create the admin identity, then revoked.
                await verifyToken(active, token as string, deadline, secrets);
            }
            const waitForDecryptedToken = tokenEncrypted && !admin?.token;
            if (recovered && token && (await tokenState(active, token, deadline, secrets)) === "valid") {
                // The interrupted run may have minted an admin token the escrow never heard of.
                const stray = await revokeStrayAdmins(active, token, admin?.accessor, deadline, secrets);
                if (stray > 0) log(`VaultInit: revoked ${stray} admin token(s) the interrupted run minted but nobody holds`);
            } else if (recovered) {
                // Its root token is gone (revoked before the run died): the escrowed admin token carries on.
                rootIsFresh = false;
                token = undefined;
            }
            const next = waitForDecryptedToken ? undefined : await ensureAdmin(active, i, {
                root: tokenEncrypted ? undefined : token,
                rootIsFresh,
                onMinted: escrow ? (a: AdminToken) => saveEscrow({ ...(escrow as EscrowRecord), adminToken: a.token, adminTokenAccessor: a.accessor }) : undefined,
                admin,
                policyChanged: (held?.adminPolicy ?? "") !== (i.adminPolicy ?? ""),
                periodChanged: (held?.adminTokenPeriod ?? "768h") !== i.adminTokenPeriod,
                keys: keysEncrypted ? undefined : keys,
            }, deadline, secrets, log);
            if (next) {
                admin = next;
                token = undefined;
            } else if (waitForDecryptedToken) {
                log("VaultInit: the root token is PGP-encrypted: decrypt it and set adoptRootToken; the admin identity is created then and the root token revoked");
            }
            return { id: final.cluster_id || id, outs: outs(final) };
        } catch (e) {
            if (initialisedNow) {
                // The keys exist nowhere else: hand them to the engine as partial state (ErrorResourceInitFailed).
                const msg = `${(e as Error).message} (Vault WAS initialised: keys and root token are saved in the stack state; fix the cause and run \`pulumi up\` again to finish unsealing)`;
                throw partialInitError(msg, id, outs(undefined));
            }
            throw e;
        }
    } finally {
        await conn.close();
    }
}

interface AdminSituation {
    /** A root token we hold in clear: from init, an adoption, or an older state. */
    root?: string;
    /** From this init or a new adoption (a bad one is an error, not a reason to generate a root token). */
    rootIsFresh: boolean;
    admin?: AdminToken;
    /** The admin policy changed: only a root token may rewrite pulumi-admin (the token itself stays). */
    policyChanged: boolean;
    /** The token period changed: a new admin token is needed. */
    periodChanged: boolean;
    keys?: string[];
    /** Called when a new admin token exists, before the root token is revoked. */
    onMinted?: (admin: AdminToken) => Promise<void>;
}

/**
 * Makes sure a valid admin token exists and no root token stays alive. Returns the new admin
 * token when one was minted (the root token used is revoked by then), undefined when the held one
 * is valid (it is renewed) or nothing can be done (a PGP-encrypted root token and no keys).
 */
export async function ensureAdmin(
    t: Target,
    i: Inputs,
    s: AdminSituation,
    deadline: number,
    secrets: string[],
    log: (m: string) => void,
): Promise<AdminToken | undefined> {
    const policy = adminPolicyHcl(i.adminPolicy);
    const replace = s.admin?.accessor || undefined;
    // The value check() chose (a preview already showed it to the Vault provider). Never the value of
    // a token that died: re-creating a revoked token's id would bring a revoked credential back.
    const id = i.adminToken && i.adminToken !== s.admin?.token ? i.adminToken : undefined;
    if (s.root && (s.rootIsFresh || (await tokenState(t, s.root, deadline, secrets)) === "valid")) {
        const minted = await mintAdmin(t, s.root, policy, i.adminTokenPeriod, replace, deadline, secrets, s.onMinted, id);
        log(`VaultInit: admin token with policy ${ADMIN_POLICY_NAME} created (period ${i.adminTokenPeriod}); the root token is revoked`);
        return minted;
    }
    let why: string;
    if (s.admin?.token) {
        if ((await tokenState(t, s.admin.token, deadline, secrets)) === "valid") {
            if (!s.periodChanged && !id) {
                if (s.policyChanged) {
                    if (!s.keys || s.keys.length === 0) {
                        throw new Error(`${t.label}: the ${ADMIN_POLICY_NAME} policy changed, and no usable unseal keys are held to generate a root token for it. Set vaultAdoptRootToken (secret) to a root token; it is used once and revoked.`);
                    }
                    log(`VaultInit: the ${ADMIN_POLICY_NAME} policy changed: generating a root token with the key quorum (sys/generate-root) to rewrite it, then revoking it; the admin token stays`);
                    await rewritePolicy(t, await generateRoot(t, s.keys, deadline, secrets), policy, deadline, secrets);
                }
                await renewSelf(t, s.admin.token, deadline, secrets);
                return undefined;
            }
            why = id ? "the admin token predates the provider-chosen token value (a state from an older version)" : "the admin token period changed";
        } else {
            why = "the admin token has expired or was revoked";
            if (!id) log("VaultInit: the admin token died after the preview (or while Vault was sealed): the new one gets a fresh value the preview could not show");
        }
    } else if (s.root) {
        why = "the root token in the state is no longer valid";
    } else if (s.keys && s.keys.length > 0) {
        why = "no admin token is held";
    } else {
        return undefined;
    }
    if (!s.keys || s.keys.length === 0) {
        throw new Error(`${t.label}: ${why}, and no usable unseal keys are held to generate a root token. Set vaultAdoptRootToken (secret) to a root token; it is used once and revoked.`);
    }
    log(`VaultInit: ${why}: generating a root token with the key quorum (sys/generate-root), minting a new admin token, revoking the root token`);
    const root = await generateRoot(t, s.keys, deadline, secrets);
    const minted = await mintAdmin(t, root, policy, i.adminTokenPeriod, replace, deadline, secrets, undefined, id);
    log(`VaultInit: new admin token with policy ${ADMIN_POLICY_NAME} (period ${i.adminTokenPeriod}); the generated root token is revoked`);
    return minted;
}

// The scoped admin identity that replaces the root token: the `pulumi-admin` policy, an orphan
// periodic token with it, the root token revoked, and recovery through sys/generate-root.
// Serialized into the dynamic provider: no module state except pure constants, `require` inside.
import { Target, redact, responseError, vaultCall } from "./client";
import { testPause } from "./escrow";

/** Name of the policy the admin token carries. The admin token may not change it (see adminPolicyHcl). */
export const ADMIN_POLICY_NAME = "pulumi-admin";

/** Every admin token may look itself up and renew itself; nothing else is implied (no default policy). */
export function adminPolicyHcl(managed: string | undefined): string {
    const self =
        '# The token itself: lookup and renew (it carries no default policy).\n' +
        'path "auth/token/lookup-self" {\n  capabilities = ["read"]\n}\n\n' +
        'path "auth/token/renew-self" {\n  capabilities = ["update"]\n}\n\n' +
        `# Its own policy is off limits: changing it takes the unseal-key quorum (generate-root).\n` +
        `path "sys/policies/acl/${ADMIN_POLICY_NAME}" {\n  capabilities = ["deny"]\n}\n`;
    return managed && managed.trim() ? `${self}\n${managed.trim()}\n` : self;
}

export interface AdminToken {
    token: string;
    accessor: string;
}

/**
 * A fresh admin token value: 43 url-safe characters (256 random bits), no "." (Vault refuses custom
 * token ids with one). Vault stores a custom id's index with a salted SHA1 instead of its HMAC
 * (it warns so); with 256 random bits that hash gives nothing away.
 */
export function newAdminTokenId(): string {
    return `pa-${require("crypto").randomBytes(32).toString("base64url")}`;
}

/** lookup-self: "valid", or "invalid" (403: expired, revoked, unknown); anything else throws. */
export async function tokenState(t: Target, token: string, deadline: number, secrets: string[]): Promise<"valid" | "invalid"> {
    const r = await vaultCall(t, "GET", "auth/token/lookup-self", { token, deadline, secrets });
    if (r.status === 200) return "valid";
    if (r.status === 403 || r.status === 401) return "invalid";
    throw responseError(t, "token check (GET /v1/auth/token/lookup-self)", r, secrets);
}

/** lookup-self's remaining TTL in seconds, or undefined when the token is not valid (403). */
export async function tokenTtl(t: Target, token: string, deadline: number, secrets: string[]): Promise<number | undefined> {
    const r = await vaultCall(t, "GET", "auth/token/lookup-self", { token, deadline, secrets });
    if (r.status === 200) return Number(r.json?.data?.ttl ?? 0);
    if (r.status === 403 || r.status === 401) return undefined;
    throw responseError(t, "token check (GET /v1/auth/token/lookup-self)", r, secrets);
}

/** renew-self with the token's own period; the token value does not change. */
export async function renewSelf(t: Target, token: string, deadline: number, secrets: string[]): Promise<void> {
    const r = await vaultCall(t, "POST", "auth/token/renew-self", { token, body: {}, deadline, secrets });
    if (r.status !== 200) {
        throw responseError(t, "admin token renewal (POST /v1/auth/token/renew-self)", r, secrets);
    }
}

/**
 * With a root (or sudo) token: writes the pulumi-admin policy, creates an orphan periodic token
 * with only that policy, revokes the admin token it replaces (by accessor) and then the given root
 * token. Returns the new admin token.
 */
export async function mintAdmin(
    t: Target,
    rootToken: string,
    policyHcl: string,
    period: string,
    replaceAccessor: string | undefined,
    deadline: number,
    secrets: string[],
    /** Called once the admin token exists, before the root token is revoked (the init escrow records it). */
    onMinted?: (admin: AdminToken) => Promise<void>,
    /**
     * The token's value, chosen by the provider's check() so a preview already knows it (see
     * carried()). Only a root token may set it; the server otherwise picks one.
     */
    id?: string,
): Promise<AdminToken> {
    const pol = await vaultCall(t, "PUT", `sys/policies/acl/${ADMIN_POLICY_NAME}`, { token: rootToken, body: { policy: policyHcl }, deadline, secrets });
    if (pol.status !== 204 && pol.status !== 200) {
        throw responseError(t, `writing the ${ADMIN_POLICY_NAME} policy (PUT /v1/sys/policies/acl/${ADMIN_POLICY_NAME})`, pol, secrets);
    }
    const body = {
        policies: [ADMIN_POLICY_NAME],
        no_parent: true,
        no_default_policy: true,
        renewable: true,
        period,
        display_name: ADMIN_POLICY_NAME,
        meta: { "managed-by": "pulumi VaultInit" },
        ...(id ? { id } : {}),
    };
    const r = await vaultCall(t, "POST", "auth/token/create", { token: rootToken, body, deadline, secrets });
    if (r.status !== 200 || typeof r.json?.auth?.client_token !== "string") {
        throw responseError(t, "creating the admin token (POST /v1/auth/token/create)", r, secrets);
    }
    const admin = { token: r.json.auth.client_token as string, accessor: String(r.json.auth.accessor ?? "") };
    secrets.push(admin.token);
    await testPause("after-admin");
    if (onMinted) await onMinted(admin);
    await testPause("before-revoke");
    if (replaceAccessor) {
        // The admin token this one replaces (it may be gone already: any answer is fine).
        await vaultCall(t, "POST", "auth/token/revoke-accessor", { token: rootToken, body: { accessor: replaceAccessor }, deadline, secrets, accept: () => true });
    }
    await revokeSelf(t, rootToken, deadline, secrets);
    return admin;
}

/**
 * Revokes admin tokens this provider minted that nobody holds: a run killed after minting one but
 * before the escrow recorded it leaves it alive. `keep`: the accessor of the one held. Returns how many.
 */
export async function revokeStrayAdmins(t: Target, rootToken: string, keep: string | undefined, deadline: number, secrets: string[]): Promise<number> {
    const list = await vaultCall(t, "GET", "auth/token/accessors?list=true", { token: rootToken, deadline, secrets });
    if (list.status !== 200) {
        throw responseError(t, "listing token accessors (LIST /v1/auth/token/accessors)", list, secrets);
    }
    let revoked = 0;
    for (const accessor of (list.json?.data?.keys ?? []) as string[]) {
        if (accessor === keep) continue;
        const look = await vaultCall(t, "POST", "auth/token/lookup-accessor", { token: rootToken, body: { accessor }, deadline, secrets, accept: () => true });
        const d = look.json?.data;
        if (look.status === 200 && (d?.policies ?? []).includes(ADMIN_POLICY_NAME) && d?.meta?.["managed-by"] === "pulumi VaultInit") {
            await vaultCall(t, "POST", "auth/token/revoke-accessor", { token: rootToken, body: { accessor }, deadline, secrets, accept: () => true });
            revoked++;
        }
    }
    return revoked;
}

/**
 * Rewrites the pulumi-admin policy with a root token, then revokes that root token. Tokens carry
 * policies by name, so the admin token picks the new paths up at once: it stays the same token.
 */
export async function rewritePolicy(t: Target, rootToken: string, policyHcl: string, deadline: number, secrets: string[]): Promise<void> {
    const pol = await vaultCall(t, "PUT", `sys/policies/acl/${ADMIN_POLICY_NAME}`, { token: rootToken, body: { policy: policyHcl }, deadline, secrets });
    if (pol.status !== 204 && pol.status !== 200) {
        throw responseError(t, `writing the ${ADMIN_POLICY_NAME} policy (PUT /v1/sys/policies/acl/${ADMIN_POLICY_NAME})`, pol, secrets);
    }
    await revokeSelf(t, rootToken, deadline, secrets);
}

/** Revokes the token itself (the root token once the admin identity exists). */
export async function revokeSelf(t: Target, token: string, deadline: number, secrets: string[]): Promise<void> {
    const r = await vaultCall(t, "POST", "auth/token/revoke-self", { token, body: {}, deadline, secrets });
    if (r.status !== 204 && r.status !== 200) {
        throw responseError(t, "revoking the root token (POST /v1/auth/token/revoke-self)", r, secrets);
    }
}

/** XOR-decodes the encoded token of a completed generate-root attempt with its OTP (Vault ≥ 1.10, OpenBao). */
export function decodeGeneratedToken(encoded: string, otp: string): string {
    const enc = Buffer.from(encoded, "base64");
    const key = Buffer.from(otp, "utf8");
    if (enc.length !== key.length) {
        throw new Error(`generate-root: the encoded token is ${enc.length} bytes but the OTP ${key.length}; unsupported server version`);
    }
    const out = Buffer.alloc(enc.length);
    for (let n = 0; n < enc.length; n++) out[n] = enc[n] ^ key[n];
    return out.toString("utf8");
}

/**
 * sys/generate-root with the unseal (or recovery) key quorum: cancels an attempt left by someone
 * else (its OTP is unknown to us), starts ours with a server-generated OTP, submits the keys,
 * decodes the token. The caller revokes the token as soon as it has used it.
 */
export async function generateRoot(t: Target, keys: string[], deadline: number, secrets: string[]): Promise<string> {
    const status = await vaultCall(t, "GET", "sys/generate-root/attempt", { deadline, secrets });
    if (status.status === 405 || (status.status >= 400 && /unsupported operation/.test(status.text))) {
        throw new Error(
            redact(
                `${t.label}: sys/generate-root is disabled on this server (OpenBao ≥ 2.5.3 turns the unauthenticated endpoints off by default), ` +
                    "so the admin token cannot be recovered with the unseal keys. Set `disable_unauthed_generate_root_endpoints = false` " +
                    "on a listener the provider reaches (ideally only while recovering), or mint a root token another way and give it " +
                    "once as `vaultAdoptRootToken` (it is used to create the admin identity, then revoked). Nothing was changed.",
                secrets,
            ),
        );
    }
    if (status.status !== 200) throw responseError(t, "GET /v1/sys/generate-root/attempt", status, secrets);
    if (status.json?.started) {
        const c = await vaultCall(t, "DELETE", "sys/generate-root/attempt", { deadline, secrets });
        if (c.status !== 204 && c.status !== 200) throw responseError(t, "cancelling a foreign generate-root attempt", c, secrets);
    }
    const start = await vaultCall(t, "PUT", "sys/generate-root/attempt", { body: {}, deadline, secrets });
    if (start.status !== 200 || !start.json?.nonce || !start.json?.otp) {
        throw responseError(t, "starting generate-root (PUT /v1/sys/generate-root/attempt)", start, secrets);
    }
    const nonce = start.json.nonce as string;
    const otp = start.json.otp as string;
    secrets.push(otp);
    const required = Number(start.json.required) || keys.length;
    if (keys.length < required) {
        await vaultCall(t, "DELETE", "sys/generate-root/attempt", { deadline, secrets });
        throw new Error(`${t.label}: generate-root needs ${required} keys but only ${keys.length} are held`);
    }
    for (const key of keys.slice(0, required)) {
        const r = await vaultCall(t, "PUT", "sys/generate-root/update", { body: { key, nonce }, deadline, secrets });
        if (r.status !== 200 || !r.json) {
            await vaultCall(t, "DELETE", "sys/generate-root/attempt", { deadline, secrets, accept: () => true });
            throw responseError(t, "generate-root update (wrong or foreign key?)", r, secrets);
        }
        if (r.json.complete) {
            const encoded = (r.json.encoded_token || r.json.encoded_root_token) as string;
            const token = decodeGeneratedToken(encoded, otp);
            secrets.push(token);
            return token;
        }
    }
    throw new Error(`${t.label}: generate-root did not complete after ${required} keys`);
}

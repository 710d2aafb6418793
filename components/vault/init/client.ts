// Minimal Vault HTTP client used by the dynamic provider.
// Everything here is serialized into the provider by pulumi.runtime.serializeFunction,
// so functions `require` their dependencies inside and touch no module state.

/** One Vault server reachable at `base` (a loopback port-forward or a direct URL). */
export interface Target {
    /** What the user sees in messages: the direct address or "k8s://<ns>/<pod>". */
    label: string;
    base: string;
    ca?: string;
    servername?: string;
    /** Why the transport failed, when the transport knows better than the socket (port-forward). */
    diagnose?: () => string | undefined;
}

export interface VaultResponse {
    status: number;
    text: string;
    json: any;
}

/** Replaces every secret (key, token) occurring in `text`; error bodies must never carry them. */
export function redact(text: string, secrets: string[]): string {
    let out = text;
    for (const s of secrets) {
        if (s && s.length >= 4) {
            out = out.split(s).join("<redacted>");
        }
    }
    // Belt and braces: Vault/OpenBao token formats.
    return out.replace(/\b(hvs|hvb|hvr|s|b|r)\.[A-Za-z0-9_-]{20,}/g, "<redacted-token>");
}

/** One HTTP request, no retry. Rejects only on transport errors. */
export function vaultRequest(
    t: Target,
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    timeoutMs = 15000,
): Promise<VaultResponse> {
    const url = new URL(`/v1/${path}`, t.base);
    const isHttps = url.protocol === "https:";
    const mod = isHttps ? require("https") : require("http");
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { Accept: "application/json" };
    if (payload !== undefined) {
        headers["Content-Type"] = "application/json";
        headers["Content-Length"] = Buffer.byteLength(payload);
    }
    if (token) {
        headers["X-Vault-Token"] = token;
    }
    const opts: Record<string, unknown> = { method, headers, timeout: timeoutMs, agent: false };
    if (isHttps) {
        if (t.ca) {
            opts.ca = t.ca;
        }
        if (t.servername) {
            opts.servername = t.servername;
            // Port-forwards connect to 127.0.0.1: verify the certificate against the configured name instead.
            opts.checkServerIdentity = (_host: string, cert: unknown) =>
                require("tls").checkServerIdentity(t.servername, cert);
        }
    }
    return new Promise((resolve, reject) => {
        const req = mod.request(url, opts, (res: import("http").IncomingMessage) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", reject);
            res.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                let json: unknown = undefined;
                try {
                    json = text ? JSON.parse(text) : {};
                } catch {
                    json = undefined;
                }
                resolve({ status: res.statusCode ?? 0, text, json });
            });
        });
        req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs}ms`)));
        req.on("error", reject);
        if (payload !== undefined) {
            req.write(payload);
        }
        req.end();
    });
}

export interface CallOptions {
    body?: unknown;
    token?: string;
    /** Epoch ms after which we stop retrying. */
    deadline: number;
    /** Strings that must never appear in an error message. */
    secrets: string[];
    /** Statuses to hand back to the caller instead of retrying/failing (default: all < 500). */
    accept?: (status: number) => boolean;
}

/**
 * Calls Vault, retrying transport errors, 5xx and 429 with backoff until the deadline.
 * The final error names the target and the last response (redacted).
 */
export async function vaultCall(t: Target, method: string, path: string, o: CallOptions): Promise<VaultResponse> {
    const accept = o.accept ?? ((s: number) => s < 500 && s !== 429);
    let delay = 250;
    let last = "no response";
    for (;;) {
        const remaining = o.deadline - Date.now();
        try {
            const r = await vaultRequest(t, method, path, o.body, o.token, Math.max(1000, Math.min(15000, remaining)));
            if (accept(r.status)) {
                return r;
            }
            last = `HTTP ${r.status} ${r.text.trim().slice(0, 500)}`;
        } catch (e) {
            const why = t.diagnose?.();
            last = `${(e as Error).message || String(e)}${why ? ` (${why})` : ""}`;
            // Certificate problems do not heal by waiting: fail now, saying what to set.
            if (/CERT|SELF_SIGNED|UNABLE_TO_|ALTNAME/.test(String((e as { code?: string }).code ?? ""))) {
                throw new Error(redact(`${t.label}: TLS verification failed (${last}); set caCert and/or tlsServerName`, o.secrets));
            }
        }
        if (Date.now() + delay > o.deadline) {
            throw new Error(redact(`${t.label}: ${method} /v1/${path} did not succeed in time; last: ${last}`, o.secrets));
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 1000);
    }
}

/** Error for an unexpected (non-retryable) response, redacted. */
export function responseError(t: Target, what: string, r: VaultResponse, secrets: string[]): Error {
    return new Error(redact(`${t.label}: ${what} failed: HTTP ${r.status} ${r.text.trim().slice(0, 500)}`, secrets));
}

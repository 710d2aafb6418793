// Pure validators shared by the config loader and the components. Each returns a reason
// (what is wrong and how to fix it) or undefined when the value is fine.

/** RFC 1123 label: Kubernetes namespace and most object names. */
export function checkDnsLabel(value: string): string | undefined {
    if (value.length > 63) return `"${value}" is longer than 63 characters`;
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value)) {
        return `"${value}" is not a valid name: use lower-case letters, digits and '-', starting and ending with a letter or digit`;
    }
    return undefined;
}

/** RFC 1123 subdomain: Secret, SecretStore and ExternalSecret names. */
export function checkDnsSubdomain(value: string): string | undefined {
    if (value.length > 253) return `"${value}" is longer than 253 characters`;
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(value)) {
        return `"${value}" is not a valid name: use lower-case letters, digits, '-' and '.'`;
    }
    return undefined;
}

/** Exact chart version (semver without ranges): a PR preview must show exactly what will be installed. */
export function checkExactVersion(value: string): string | undefined {
    if (!/^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(value)) {
        return `"${value}" is not an exact chart version: pin one like "0.34.1" (no ranges, no "latest")`;
    }
    return undefined;
}

const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600 };

/**
 * Parses a Go/Vault-style duration ("90s", "15m", "1h30m", "24h") into seconds.
 * Returns undefined for anything else, including bare numbers, so typos never become seconds silently.
 */
export function parseDuration(value: string): number | undefined {
    if (!/^(\d+[hms])+$/.test(value)) return undefined;
    let total = 0;
    for (const [, amount, unit] of value.matchAll(/(\d+)([hms])/g)) {
        total += Number(amount) * unitSeconds[unit];
    }
    return total;
}

export function checkDuration(value: string, minSeconds: number, maxSeconds: number): string | undefined {
    const seconds = parseDuration(value);
    if (seconds === undefined) return `"${value}" is not a duration: use forms like "30s", "15m", "1h" or "1h30m"`;
    if (seconds < minSeconds || seconds > maxSeconds) {
        return `"${value}" must be between ${minSeconds}s and ${maxSeconds}s`;
    }
    return undefined;
}

/** KV paths and mount paths: no leading/trailing slash, no wildcards, no "..". */
export function checkVaultPath(value: string): string | undefined {
    if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/.test(value) || value.includes("..")) {
        return `"${value}" is not a plain Vault path: use segments of letters, digits, '_', '-' separated by '/', without wildcards or leading/trailing '/'`;
    }
    return undefined;
}

/** `path` is `prefix` or below it, segment-wise ("team-a/db" is under "team-a"; "team-ab" is not). */
export function isUnder(path: string, prefix: string): boolean {
    return path === prefix || path.startsWith(`${prefix}/`);
}

export function checkUrl(value: string, schemes: string[]): string | undefined {
    try {
        const url = new URL(value);
        if (!schemes.includes(url.protocol.replace(":", ""))) {
            return `"${value}" must use ${schemes.join(" or ")}`;
        }
        return undefined;
    } catch {
        return `"${value}" is not a URL: use e.g. "${schemes[0]}://host:port"`;
    }
}

import * as pulumi from "@pulumi/pulumi";
import { closestKey } from "./keys";
import { parseSeal, SealSpec, SHAMIR } from "./seal";
import { AppSecretSpec, ChartSource, ConfigError, SpokeSpec, TenantSpec } from "./types";
import { checkDnsLabel, checkDnsSubdomain, checkExactVersion, checkVaultPath, isUnder } from "./validators";

type Check = (value: string) => string | undefined;

/**
 * Reads raw config values and collects problems instead of throwing on the first one,
 * so a user sees every mistake in one `pulumi preview`.
 */
export class ConfigReader {
    private readonly problems: string[] = [];

    constructor(private readonly config: pulumi.Config) {}

    problem(key: string, reason: string): void {
        this.problems.push(`${this.config.name}:${key}: ${reason}`);
    }

    throwIfProblems(): void {
        if (this.problems.length > 0) throw new ConfigError(this.problems);
    }

    optionalString(key: string, check?: Check): string | undefined {
        const value = this.config.get(key);
        if (value === undefined) return undefined;
        const reason = value === "" ? "is empty; remove the key to use the default" : check?.(value);
        if (reason) this.problem(key, reason);
        return value;
    }

    string(key: string, fallback: string, check?: Check): string {
        return this.optionalString(key, check) ?? fallback;
    }

    oneOf<T extends string>(key: string, fallback: T, allowed: readonly T[]): T {
        const value = this.config.get(key) ?? fallback;
        if (!allowed.includes(value as T)) this.problem(key, `"${value}" is not one of ${allowed.map((a) => `"${a}"`).join(", ")}`);
        return value as T;
    }

    boolean(key: string, fallback: boolean): boolean {
        const value = this.config.get(key);
        if (value === undefined) return fallback;
        if (value !== "true" && value !== "false") {
            this.problem(key, `"${value}" is not a boolean: use true or false`);
            return fallback;
        }
        return value === "true";
    }

    integer(key: string, fallback: number, min: number, max: number): number {
        const value = this.config.get(key);
        if (value === undefined) return fallback;
        const n = Number(value);
        if (!/^-?\d+$/.test(value) || n < min || n > max) {
            this.problem(key, `"${value}" must be a whole number from ${min} to ${max}`);
            return fallback;
        }
        return n;
    }

    /** A secret value: only its presence is checked here, its text never leaves an Output. */
    optionalSecret(key: string): pulumi.Output<string> | undefined {
        return this.config.getSecret(key);
    }

    optionalSecretObject<T>(key: string): pulumi.Output<T> | undefined {
        try {
            return this.config.getSecretObject<T>(key);
        } catch {
            this.problem(key, "is not valid JSON/YAML structured config; set it with `pulumi config set --secret --path`");
            return undefined;
        }
    }

    /** `<prefix>Name`, `<prefix>Repo`, `<prefix>Version`, `<prefix>Path`: a chart from a repository or a local directory. */
    chart(prefix: string, name: string, repo: string, version: string): ChartSource {
        return {
            name: this.string(`${prefix}Name`, name, (v) => (/^[a-z0-9][a-z0-9-]*$/.test(v) ? undefined : `"${v}" is not a chart name`)),
            repo: this.string(`${prefix}Repo`, repo, (v) => (/^(https|oci):\/\//.test(v) ? undefined : `"${v}" must be an https:// or oci:// chart repository`)),
            version: this.string(`${prefix}Version`, version, checkExactVersion),
            path: this.optionalString(`${prefix}Path`),
        };
    }

    /** `vaultSeal`: a seal type name or an object (components/config/seal.ts). */
    seal(key: string, mode: "chart" | "external" | "spoke"): SealSpec {
        if (mode === "spoke") {
            if (this.config.get(key) !== undefined) this.problem(key, "a spoke runs no Vault server (the hub does); remove vaultSeal");
            return SHAMIR;
        }
        let raw: unknown;
        try {
            raw = this.config.getObject<unknown>(key);
        } catch {
            raw = this.config.get(key);
        }
        return parseSeal(raw, (k, reason) => this.problem(k, reason), (k, known) => closestKey(k, known), mode);
    }

    appSecrets(key: string, fallback: AppSecretSpec[]): AppSecretSpec[] {
        let raw: unknown;
        try {
            raw = this.config.getObject<unknown>(key);
        } catch {
            this.problem(key, "is not a list; see README 'Declaring secrets'");
            return fallback;
        }
        if (raw === undefined) return fallback;
        if (!Array.isArray(raw) || raw.length === 0) {
            this.problem(key, "must be a non-empty list of {name, path, keys, seed?}; see README 'Declaring secrets'");
            return fallback;
        }
        return this.secretList(key, raw);
    }

    /** One list of {name, path, keys, seed?} entries (appSecrets, or a tenant's secrets). */
    private secretList(key: string, raw: unknown[]): AppSecretSpec[] {
        const names = new Set<string>();
        return raw.map((entry: any, i: number): AppSecretSpec => {
            const at = `${key}[${i}]`;
            const name = typeof entry?.name === "string" ? entry.name : "";
            const path = typeof entry?.path === "string" ? entry.path : "";
            const keys: unknown = entry?.keys;
            const seed = entry?.seed ?? "random";
            const nameReason = name ? checkDnsSubdomain(name) : "needs a name (the Kubernetes Secret to create)";
            if (nameReason) this.problem(`${at}.name`, nameReason);
            if (names.has(name)) this.problem(`${at}.name`, `"${name}" is declared twice`);
            names.add(name);
            const pathReason = path ? checkVaultPath(path) : "needs a KV path, e.g. \"app/db\"";
            if (pathReason) this.problem(`${at}.path`, pathReason);
            const keyList = Array.isArray(keys) ? keys.filter((k): k is string => typeof k === "string") : [];
            if (!Array.isArray(keys) || keyList.length === 0 || keyList.length !== keys.length) {
                this.problem(`${at}.keys`, "must be a non-empty list of property names, e.g. [password]");
            }
            for (const k of keyList) {
                if (!/^[-._a-zA-Z0-9]+$/.test(k)) this.problem(`${at}.keys`, `"${k}" is not a valid Secret data key (letters, digits, '-', '_', '.')`);
            }
            if (seed !== "random" && seed !== "none") this.problem(`${at}.seed`, `"${seed}" must be "random" or "none"`);
            return { name, path, keys: keyList, seed };
        });
    }

    /**
     * Tenants: [{name, namespace, kvPrefix?, secrets: [...]}]. Shape and per-tenant rules here;
     * rules across tenants (and against the default tenant) in loadConfig.
     */
    tenants(key: string, prefixBase?: string): TenantSpec[] {
        let raw: unknown;
        try {
            raw = this.config.getObject<unknown>(key);
        } catch {
            this.problem(key, "is not a list; see README 'Tenants'");
            return [];
        }
        if (raw === undefined) return [];
        if (!Array.isArray(raw)) {
            this.problem(key, "must be a list of {name, namespace, kvPrefix?, secrets}; see README 'Tenants'");
            return [];
        }
        return raw.map((entry: any, i: number): TenantSpec => {
            const at = `${key}[${i}]`;
            const name = typeof entry?.name === "string" ? entry.name : "";
            const namespace = typeof entry?.namespace === "string" ? entry.namespace : name;
            // A spoke's tenants live below the spoke's prefix, in their namespace's folder (the hub's
            // reader policy grants a login `<prefix>/<its namespace>/*`).
            const kvPrefix = typeof entry?.kvPrefix === "string" ? entry.kvPrefix : prefixBase && namespace ? `${prefixBase}/${namespace}` : name;
            const nameReason = name ? checkDnsLabel(name) : "needs a name (a DNS label, e.g. team-a)";
            if (nameReason) this.problem(`${at}.name`, nameReason);
            const nsReason = namespace ? checkDnsLabel(namespace) : undefined;
            if (nsReason) this.problem(`${at}.namespace`, nsReason);
            const prefixReason = kvPrefix ? checkVaultPath(kvPrefix) : undefined;
            if (prefixReason) this.problem(`${at}.kvPrefix`, prefixReason);
            if (!Array.isArray(entry?.secrets) || entry.secrets.length === 0) {
                this.problem(`${at}.secrets`, "must be a non-empty list of {name, path, keys, seed?}, like appSecrets");
                return { name, namespace, kvPrefix, secrets: [] };
            }
            const secrets = this.secretList(`${at}.secrets`, entry.secrets);
            secrets.forEach((s, j) => {
                if (s.path && kvPrefix && !isUnder(s.path, kvPrefix)) {
                    this.problem(`${at}.secrets[${j}].path`, `"${s.path}" is outside the tenant's kvPrefix "${kvPrefix}"; use "${kvPrefix}/<path>" (or change kvPrefix)`);
                }
            });
            return { name, namespace, kvPrefix, secrets };
        });
    }

    /** Spokes of a hub: [{name, kvPrefix?}]; rules across spokes and against the hub's names in loadConfig. */
    spokes(key: string): SpokeSpec[] | undefined {
        let raw: unknown;
        try {
            raw = this.config.getObject<unknown>(key);
        } catch {
            this.problem(key, "is not a list; see README 'One Vault, many clusters'");
            return [];
        }
        if (raw === undefined) return undefined;
        if (!Array.isArray(raw)) {
            this.problem(key, "must be a list of {name, kvPrefix?, stack?}; see README 'One Vault, many clusters'");
            return [];
        }
        return raw.map((entry: any, i: number): SpokeSpec => {
            const at = `${key}[${i}]`;
            const name = typeof entry?.name === "string" ? entry.name : "";
            const kvPrefix = typeof entry?.kvPrefix === "string" ? entry.kvPrefix : `spokes/${name}`;
            const nameReason = name ? checkDnsLabel(name) : "needs a name (a DNS label, e.g. eu-1)";
            if (nameReason) this.problem(`${at}.name`, nameReason);
            else if (name.length > 40) this.problem(`${at}.name`, `"${name}" is longer than 40 characters (it names a Vault auth mount and policies)`);
            const prefixReason = kvPrefix ? checkVaultPath(kvPrefix) : "must not be empty";
            if (prefixReason) this.problem(`${at}.kvPrefix`, prefixReason);
            const stack = typeof entry?.stack === "string" ? entry.stack : name;
            if (!/^[A-Za-z0-9._/-]+$/.test(stack)) this.problem(`${at}.stack`, `"${stack}" is not a stack name`);
            for (const k of Object.keys(entry ?? {})) if (!["name", "kvPrefix", "stack"].includes(k)) this.problem(`${at}.${k}`, "unknown field; a spoke takes name, kvPrefix and stack");
            return { name, kvPrefix, stack };
        });
    }
}

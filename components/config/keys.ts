// The stack config keys this program reads: the one list that unknown keys are checked against.
import { DEFAULTS } from "./defaults";

/** Keys read without a default of their own (optional, secret or structured); see README "Configuration". */
const KEYS_WITHOUT_DEFAULT = [
    "environment",
    "vaultChartPath",
    "vaultImage",
    "vaultTlsSecret",
    "vaultCaCertFile",
    "vaultAddress",
    "vaultFlavor",
    "vaultAdoptUnsealKeys",
    "vaultAdoptRootToken",
    "kubernetesCaCert",
    "kubernetesIssuer",
    "esoChartPath",
    "registryUsername",
    "registryPassword",
    "tenants",
    "spokes",
    "spokesVaultAddress",
    "spokeName",
    "hubStack",
    "hubToken",
    "spokeKvPrefix",
    "vaultSeal",
] as const;

/**
 * Every key of the project namespace that loadConfig reads. Any other key in that namespace is a
 * mistake (a typo would otherwise be silently ignored) and is reported with the closest of these.
 * test/unit/config.test.ts checks that loadConfig reads exactly these keys and that Pulumi.yaml
 * declares no others.
 */
export const CONFIG_KEYS: readonly string[] = [...Object.keys(DEFAULTS), ...KEYS_WITHOUT_DEFAULT];

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.length][b.length];
}

/**
 * The known key `key` was most likely meant to be: a case-insensitive match first, else the
 * nearest by edit distance (ignoring case) if it is close enough to be a typo; undefined otherwise.
 */
export function closestKey(key: string, known: readonly string[] = CONFIG_KEYS): string | undefined {
    const lower = key.toLowerCase();
    const sameLetters = known.find((k) => k.toLowerCase() === lower);
    if (sameLetters) return sameLetters;
    let best: { key: string; distance: number } | undefined;
    for (const k of known) {
        const distance = editDistance(lower, k.toLowerCase());
        if (!best || distance < best.distance) best = { key: k, distance };
    }
    return best && best.distance <= Math.max(2, Math.floor(key.length / 3)) ? best.key : undefined;
}

/**
 * Problems for keys of `namespace` (given as "namespace:key", as the engine passes them) that the
 * program does not read; keys of other namespaces (kubernetes:, vault:, ...) are not ours to judge.
 */
export function unknownKeyProblems(namespace: string, fullKeys: readonly string[]): { key: string; reason: string }[] {
    const prefix = `${namespace}:`;
    return fullKeys
        .filter((k) => k.startsWith(prefix))
        .map((k) => k.slice(prefix.length))
        .filter((k) => !CONFIG_KEYS.includes(k))
        .sort()
        .map((key) => {
            const guess = closestKey(key);
            return {
                key,
                reason: guess
                    ? `is not a setting of this program and would be silently ignored; did you mean ${guess}? Rename the key in the stack file`
                    : `is not a setting of this program and would be silently ignored; remove it (the settings are listed in README "Configuration")`,
            };
        });
}

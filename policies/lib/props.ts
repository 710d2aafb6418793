// Helpers for reading resource inputs as the policy engine hands them over.

/** Marks a value the engine could not know yet (a computed output during preview). */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Maybe<T> = T | typeof UNKNOWN | undefined;

/**
 * Reads a nested property without throwing. During preview the engine wraps inputs in a proxy
 * that throws on unknown values; a policy should judge what it can see rather than give up.
 */
export function get(obj: unknown, ...path: Array<string | number>): unknown {
    let cur: unknown = obj;
    for (const key of path) {
        if (cur === UNKNOWN || cur === null || typeof cur !== "object") {
            return cur === UNKNOWN ? UNKNOWN : undefined;
        }
        try {
            cur = (cur as Record<string | number, unknown>)[key];
        } catch {
            return UNKNOWN;
        }
    }
    return cur;
}

export function str(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

export function num(value: unknown): number | undefined {
    if (typeof value === "number") {
        return value;
    }
    if (typeof value === "string" && /^\d+$/.test(value.trim())) {
        return Number(value);
    }
    return undefined;
}

/** Array elements, each read safely (unknown elements become UNKNOWN). */
export function list(value: unknown): unknown[] | undefined {
    if (!Array.isArray(value)) {
        return undefined;
    }
    const out: unknown[] = [];
    const len = get(value, "length");
    for (let i = 0; i < (typeof len === "number" ? len : 0); i++) {
        out.push(get(value, i));
    }
    return out;
}

/** Object keys without touching values (the `has`/`ownKeys` traps never throw). */
export function keys(value: unknown): string[] {
    return value !== null && typeof value === "object" ? Object.keys(value) : [];
}

/** Renders a value for a message: strings quoted, objects as JSON. */
export function show(value: unknown): string {
    if (value === UNKNOWN) {
        return "<unknown until apply>";
    }
    if (value === undefined) {
        return "<unset>";
    }
    try {
        return JSON.stringify(value) ?? String(value);
    } catch {
        return String(value);
    }
}

/** Policy config merged over the defaults declared in the rule (the engine may omit them). */
export function config<T extends object>(defaults: T, given: object | undefined): T {
    const out = { ...defaults } as Record<string, unknown>;
    for (const [k, v] of Object.entries(given ?? {})) {
        if (v !== undefined && v !== null) {
            out[k] = v;
        }
    }
    return out as T;
}

/** "kubernetes:core/v1:Secret \"app-pull\"" - the resource as users see it in `pulumi preview`. */
export function subject(type: string, name: string): string {
    return `${type} "${name}"`;
}

/** One violation sentence: what is wrong (with the value) and how to fix it. */
export function message(type: string, name: string, problem: string, fix: string): string {
    return `${subject(type, name)}: ${problem}. Fix: ${fix}.`;
}

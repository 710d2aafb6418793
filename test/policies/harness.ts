// Runs policies the way the analyzer server does (inputs behind the unknown-checking proxy,
// per-policy config, notApplicable) and collects every reportViolation message.
import {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    unknownCheckingProxy,
} from "@pulumi/policy";

export const PROJECT = "vault-eso-platform";

/**
 * The engine's wire sentinel for a value a preview cannot know yet (@pulumi/policy's internal
 * unknownStringValue); the proxy throws when a policy reads it, exactly as in `pulumi preview`.
 */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface Fixture {
    type: string;
    name: string;
    props: Record<string, unknown>;
    /** Name of the fixture this one is a child of (e.g. a chart's rendered Service). */
    parent?: string;
}

export interface RunOptions {
    stack?: string;
    config?: Record<string, unknown>;
    tags?: Record<string, string>;
}

export interface Outcome {
    violations: string[];
    notApplicable?: string;
}

class NotApplicable extends Error {
    constructor(readonly reason: string) {
        super(reason);
    }
}

export function urnOf(stack: string, f: Fixture): string {
    return `urn:pulumi:${stack}::${PROJECT}::${f.type}::${f.name}`;
}

const opts = { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] };

const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason ?? "");
};

async function capture(run: (report: (message: string) => void) => Promise<void> | void): Promise<Outcome> {
    const violations: string[] = [];
    try {
        await run((m) => violations.push(m));
    } catch (e) {
        if (e instanceof NotApplicable) {
            return { violations, notApplicable: e.reason };
        }
        throw e;
    }
    return { violations };
}

export function validateResource(policy: ResourceValidationPolicy, f: Fixture, o: RunOptions = {}): Promise<Outcome> {
    const props = unknownCheckingProxy(structuredCloneWithUnknowns(f.props));
    const args: ResourceValidationArgs = {
        type: f.type,
        name: f.name,
        urn: urnOf(o.stack ?? "dev", f),
        props,
        opts,
        stackTags: new Map(Object.entries(o.tags ?? {})),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => (o.config ?? {}) as T,
        notApplicable,
    };
    const validations = [policy.validateResource ?? []].flat();
    return capture(async (report) => {
        for (const v of validations) {
            await v(args, report);
        }
    });
}

export function validateStack(policy: StackValidationPolicy, fixtures: Fixture[], o: RunOptions = {}): Promise<Outcome> {
    const stack = o.stack ?? "dev";
    const resources: PolicyResource[] = fixtures.map((f) => ({
        type: f.type,
        name: f.name,
        urn: urnOf(stack, f),
        props: unknownCheckingProxy(structuredCloneWithUnknowns(f.props)),
        opts,
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    }));
    fixtures.forEach((f, i) => {
        const parent = resources[fixtures.findIndex((p) => p.name === f.parent)];
        if (f.parent && parent) {
            resources[i].parent = parent;
        }
    });
    const args: StackValidationArgs = {
        resources,
        stackTags: new Map(Object.entries(o.tags ?? {})),
        getConfig: <T extends object>() => (o.config ?? {}) as T,
        notApplicable,
    };
    return capture((report) => policy.validateStack(args, report));
}

export type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

/** Every policy against every resource, as `pulumi preview --policy-pack` would; "<policy>: <message>" lines. */
export async function runPack(policies: AnyPolicy[], fixtures: Fixture[], o: RunOptions = {}): Promise<string[]> {
    const out: string[] = [];
    for (const p of policies) {
        const config = (o.config?.[p.name] ?? {}) as Record<string, unknown>;
        if ("validateStack" in p) {
            const r = await validateStack(p, fixtures, { ...o, config });
            out.push(...r.violations.map((v) => `${p.name}: ${v}`));
        } else {
            for (const f of fixtures) {
                const r = await validateResource(p, f, { ...o, config });
                out.push(...r.violations.map((v) => `${p.name}: ${v}`));
            }
        }
    }
    return out;
}

/** Deep copy that keeps the unknown sentinels (they are compared by identity). */
function structuredCloneWithUnknowns<T>(value: T): T {
    if (Array.isArray(value)) {
        return value.map((v) => structuredCloneWithUnknowns(v)) as T;
    }
    if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structuredCloneWithUnknowns(v)])) as T;
    }
    return value;
}

/**
 * A copy of `f` with one change: `path` is a dotted path ("spec.target.creationPolicy",
 * "spec.ports.0.port") or a list of keys (for keys containing dots); `undefined` deletes it.
 */
export function change(f: Fixture, path: string | string[], value: unknown): Fixture {
    const copy = { ...f, props: structuredCloneWithUnknowns(f.props) };
    const parts = Array.isArray(path) ? path : path.split(".");
    let cur: Record<string, unknown> = copy.props;
    for (const key of parts.slice(0, -1)) {
        if (cur[key] === undefined || cur[key] === null || typeof cur[key] !== "object") {
            cur[key] = {};
        }
        cur = cur[key] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1];
    if (value === undefined) {
        delete cur[last];
    } else {
        cur[last] = value;
    }
    return copy;
}

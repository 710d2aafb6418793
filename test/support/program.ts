import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { installMocks, Recorded } from "./mocks";

export type { Recorded } from "./mocks";

const root = path.resolve(__dirname, "../..");
const project = "vault-eso-platform";

/** Config of a committed stack file, as `project:key` strings the way the engine passes them. */
export function stackConfig(stack: string): Record<string, string> {
    const file = yaml.load(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    return Object.fromEntries(Object.entries(file.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

export interface ProgramRun {
    resources: Recorded[];
    outputs: Record<string, unknown>;
}

/**
 * Runs index.ts under Pulumi mocks for a stack, in a fresh module registry (so each run has its own
 * SDK state), and returns every registered resource and the resolved stack outputs.
 * `config` entries are `key: value` without the project prefix; `secrets` are marked secret.
 */
export async function runProgram(
    stack: string,
    config: Record<string, string | undefined> = {},
    secrets: Record<string, string> = {},
    /** The outputs the stack holds from its last deployment. @default - none: never deployed */
    selfOutputs: Record<string, unknown> = {},
): Promise<ProgramRun> {
    const all: Record<string, string> = { ...stackConfig(stack) };
    for (const [k, v] of Object.entries({ ...config, ...secrets })) {
        if (v === undefined) delete all[`${project}:${k}`];
        else all[`${project}:${k}`] = v;
    }
    let run: ProgramRun | undefined;
    await jest.isolateModulesAsync(async () => {
        const pulumi = await import("@pulumi/pulumi");
        const resources = await installMocks(pulumi, project, stack, undefined, selfOutputs);
        pulumi.runtime.setAllConfig(all, Object.keys(secrets).map((k) => `${project}:${k}`));
        let program: Record<string, unknown>;
        try {
            // index.ts loads config when imported, and exports its async main (as `pulumi up` runs it).
            const loaded: any = await import("../../index");
            const main = typeof loaded === "function" ? loaded : loaded.default;
            program = await main();
        } catch (e) {
            // Lets tests prove that a failing program registered nothing.
            Object.assign(e as object, { resources: [...resources] });
            throw e;
        }
        const outputs: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(program)) {
            outputs[name] = pulumi.Output.isInstance(value) ? await unwrap(value) : value;
        }
        await settle(pulumi);
        run = { resources: [...resources], outputs };
    });
    return run!;
}

/**
 * Waits until every registration the program started has been answered by the mock monitor.
 * `disconnect` only counts RPCs in flight; a resource still resolving its inputs (the init/unseal
 * provider is serialized first, ~2 s) is tracked in the SDK's pending-registration map.
 */
export async function settle(pulumi: typeof import("@pulumi/pulumi")): Promise<void> {
    const state = await import("@pulumi/pulumi/runtime/state");
    do {
        await pulumi.runtime.disconnect();
        await new Promise((resolve) => setTimeout(resolve, 20));
    } while ((state as any).getPendingResourceRegistrations().size > 0);
    await pulumi.runtime.disconnect();
}

/** Resolves an Output's value, keeping whether it was secret. */
export function unwrap<T>(output: import("@pulumi/pulumi").Output<T>): Promise<{ value: T; secret: boolean }> {
    return new Promise((resolve) => {
        output.apply((value) => {
            (output as any).isSecret.then((secret: boolean) => resolve({ value, secret }));
            return value;
        });
    });
}

/** Runs only config loading for a stack; returns the thrown error's message, or undefined. */
export async function configError(stack: string, config: Record<string, string | undefined>, secrets: Record<string, string> = {}): Promise<string | undefined> {
    try {
        await runProgram(stack, config, secrets);
        return undefined;
    } catch (e) {
        return (e as Error).message;
    }
}

export const byType = (resources: Recorded[], type: string) => resources.filter((r) => r.type === type);
export const one = (resources: Recorded[], type: string, name?: string): Recorded => {
    const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
    if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((f) => f.name).join(", ")}`);
    return found[0];
};

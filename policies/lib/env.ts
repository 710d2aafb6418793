// Works out which environment a stack is. The policy SDK does not pass the stack name to
// policies, but every URN starts with it: urn:pulumi:<stack>::<project>::<type>::<name>.
import { PolicyConfigSchema } from "@pulumi/policy";

export type Environment = "dev" | "prod" | "other";

export interface EnvironmentConfig {
    /** Explicit override, e.g. set per stack with `--policy-pack-config`. */
    environment?: string;
    devStackPattern: string;
    prodStackPattern: string;
}

export const environmentDefaults: EnvironmentConfig = {
    devStackPattern: "^(dev|development|local|sandbox|test)([-_.].*)?$",
    prodStackPattern: "^(prod|production)([-_.].*)?$",
};

export const environmentSchema: PolicyConfigSchema["properties"] = {
    environment: {
        type: "string",
        enum: ["dev", "prod", "other"],
        description: "Overrides the environment derived from the stack name.",
    },
    devStackPattern: {
        type: "string",
        default: environmentDefaults.devStackPattern,
        description: "Regex over the stack name that marks a development stack.",
    },
    prodStackPattern: {
        type: "string",
        default: environmentDefaults.prodStackPattern,
        description: "Regex over the stack name that marks a production stack.",
    },
};

/** The stack name from a URN, or undefined if the URN is not in the usual form. */
export function stackFromUrn(urn: string | undefined): string | undefined {
    const m = /^urn:pulumi:([^:]+)::/.exec(urn ?? "");
    return m?.[1];
}

export function environmentOf(
    stack: string | undefined,
    tags: ReadonlyMap<string, string>,
    cfg: EnvironmentConfig,
): Environment {
    const explicit = cfg.environment ?? tags.get("environment");
    if (explicit === "dev" || explicit === "prod" || explicit === "other") {
        return explicit;
    }
    if (stack && new RegExp(cfg.prodStackPattern).test(stack)) {
        return "prod";
    }
    if (stack && new RegExp(cfg.devStackPattern).test(stack)) {
        return "dev";
    }
    // Unknown stacks get the non-dev rules: failing closed is the safer default.
    return "other";
}

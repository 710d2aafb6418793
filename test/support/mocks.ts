import type * as pulumiType from "@pulumi/pulumi";
import * as fs from "fs";

/** One registered resource as the engine would see it: resolved inputs plus graph edges. */
export interface Recorded {
    type: string;
    name: string;
    custom: boolean;
    inputs: any;
    /** Dotted paths of inputs that arrived as secrets (their values are revealed in `inputs`). */
    secretInputs: string[];
    /** URN of the parent ("" when registered without one). */
    parent: string;
    /** URNs this resource depends on (explicit dependsOn and inputs taken from other resources). */
    dependencies: string[];
    urn: string;
    /** Output names the SDK registered as secret. */
    additionalSecretOutputs: string[];
    /** Provider reference (`<provider urn>::<id>`) the resource was registered with, "" for the default. */
    provider: string;
    /** Kept in the cluster/Vault when removed from the program. */
    retainOnDelete: boolean;
    /** Its aliases: a URN as given, or a spec's parts that were set ("name=…", "type=…", "parentUrn=…", "noParent"). */
    aliases: string[];
}

/** An alias of a registration request, as Recorded.aliases shows it. */
function describeAlias(a: any): string {
    if (a.hasUrn?.()) return a.getUrn();
    const spec = a.getSpec();
    const parts = [spec.getName() && `name=${spec.getName()}`, spec.getType() && `type=${spec.getType()}`, spec.getParenturn() && `parentUrn=${spec.getParenturn()}`, spec.getNoparent() && "noParent"];
    return parts.filter(Boolean).join(" ");
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Replaces the wire form of secrets with their values, noting where they were. */
function reveal(value: any, path: string, secrets: string[]): any {
    if (Array.isArray(value)) return value.map((v, i) => reveal(v, `${path}[${i}]`, secrets));
    if (value === null || typeof value !== "object") return value;
    if (value[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270") {
        secrets.push(path.replace(/^\./, ""));
        return reveal(value.value, path, secrets);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v, `${path}.${k}`, secrets)]));
}

/** Outputs the mocked engine returns for resources whose real outputs come from a server. */
function mockedState(type: string, name: string, inputs: any): Record<string, unknown> {
    switch (type) {
        case "pulumi-nodejs:dynamic/vault:VaultInit":
            return { ...inputs, rootToken: "", adminToken: "s.mockadmintoken", unsealKeys: ["k1", "k2", "k3", "k4", "k5"], sealType: "shamir", vaultVersion: "2.4.1" };
        case "kubernetes:core/v1:Secret":
            return inputs.type === "kubernetes.io/service-account-token"
                ? { ...inputs, data: { token: Buffer.from("reviewer-jwt").toString("base64"), "ca.crt": Buffer.from("-----BEGIN CERTIFICATE-----\nMOCK").toString("base64") } }
                : inputs;
        case "pulumi:pulumi:StackReference":
            // A hub stack with spokes eu-1 and us-1 (test/unit/spokes.test.ts).
            return {
                ...inputs,
                outputs: {
                    spokeEndpoints: Object.fromEntries(["eu-1", "us-1"].map((s) => [s, { vaultAddress: "https://hub.example.test:8200", vaultVersion: "2.7.2", authMountPath: `spokes/${s}`, readerPolicy: `pulumi-spoke-${s}-reader`, kvMount: "kv", kvPrefix: `spokes/${s}`, stack: s }])),
                    spokeTokens: { "eu-1": "hvs.mock-spoke-eu-1", "us-1": "hvs.mock-spoke-us-1" },
                },
                secretOutputNames: ["spokeTokens"],
            };
        case "random:index/randomPassword:RandomPassword":
            return { ...inputs, result: `generated-${name}` };
        case "vault:index/authBackend:AuthBackend":
            // Vault names a mount's accessor after its type and a random suffix.
            return { ...inputs, accessor: `auth_${inputs.type}_${Buffer.from(inputs.path).toString("hex").slice(0, 8)}` };
        default:
            return inputs;
    }
}

/**
 * Makes the given SDK instance reuse the VaultInit provider text that the jest globalSetup
 * serialized for this run (test/support/global-setup.js), instead of serializing the same provider
 * again for every program run (~1-2 s each). Other dynamic providers are serialized as usual.
 * Call it with the SDK's module registry active (inside jest.isolateModulesAsync if the SDK was loaded there).
 */
export function reuseSerializedProvider(): void {
    const file = process.env.VAULT_INIT_PROVIDER_JS;
    if (!file) return;
    const text = fs.readFileSync(file, "utf8");
    const { containsSecrets } = JSON.parse(fs.readFileSync(`${file}.json`, "utf8")) as { containsSecrets: boolean };
    // The module dynamic.Resource loads to serialize its provider, from this SDK's registry.
    const closure = require("@pulumi/pulumi/runtime/closure/serializeClosure");
    const serialize = closure.serializeFunction;
    closure.serializeFunction = (func: () => unknown, args?: unknown) => {
        // dynamic.Resource passes `() => provider`; anything else is not ours to shortcut.
        if (String(func) === "() => provider") {
            const { vaultInitProvider } = require("../../components/vault/init/provider");
            if (func() === vaultInitProvider) return Promise.resolve({ text, containsSecrets });
        }
        return serialize(func, args);
    };
}

/**
 * Installs Pulumi mocks on the given SDK instance and records every registration, including the
 * parent and dependency URNs the mock monitor receives (the Mocks interface itself omits them).
 * Unmocked provider functions (`call`) throw, so a test never depends on an accidental lookup;
 * `calls` answers the ones a test expects (token -> outputs), and every call is recorded in `calls`.
 */
export const defaultCalls: Record<string, (inputs: any) => Record<string, unknown>> = {
    // OpenBao with audit on: VaultServer reads sys/audit to prove a declarative device exists.
    "vault:generic/getSecret:getSecret": (inputs) =>
        inputs.path === "sys/audit" ? { ...inputs, dataJson: JSON.stringify({ "stdout/": { type: "file" } }), data: {} } : (() => { throw new Error(`unmocked read of ${inputs.path}`); })(),
};

export async function installMocks(
    pulumi: typeof pulumiType,
    project: string,
    stack: string,
    calls: Record<string, (inputs: any) => Record<string, unknown>> = defaultCalls,
    /** The outputs the program's own stack holds (it reads them: readStackOutputs). @default - none: a new stack */
    selfOutputs: Record<string, unknown> = {},
): Promise<Recorded[]> {
    const recorded: Recorded[] = [];
    const edges = new Map<string, Partial<Recorded>>();
    reuseSerializedProvider();
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const secretInputs: string[] = [];
                const inputs = reveal(args.inputs, "", secretInputs);
                recorded.push({ type: args.type, name: args.name, custom: !!args.custom, inputs, secretInputs, parent: "", dependencies: [], urn: "", additionalSecretOutputs: [], retainOnDelete: false, provider: args.provider ?? "", aliases: [] });
                return { id: args.custom ? `${args.name}-id` : undefined, state: mockedState(args.type, args.name, inputs) };
            },
            call(args) {
                // The program reads its own stack's outputs (its record of tenant layouts).
                if (args.token === "pulumi:pulumi:readStackOutputs" && args.inputs.name === `organization/${project}/${stack}`) {
                    recorded.push({ type: `call:${args.token}`, name: args.inputs.name, custom: false, inputs: args.inputs, secretInputs: [], parent: "", dependencies: [], urn: "", additionalSecretOutputs: [], retainOnDelete: false, provider: "", aliases: [] });
                    return { name: args.inputs.name, outputs: selfOutputs, secretOutputNames: [] };
                }
                const answer = calls[args.token];
                if (!answer) throw new Error(`unmocked call ${args.token}`);
                recorded.push({ type: `call:${args.token}`, name: String(args.inputs?.path ?? ""), custom: false, inputs: args.inputs, secretInputs: [], parent: "", dependencies: [], urn: "", additionalSecretOutputs: [], retainOnDelete: false, provider: args.provider ?? "", aliases: [] });
                return answer(args.inputs);
            },
        },
        project,
        stack,
        false,
        // As the DIY backend names it (the program references its own stack: organization/project/stack).
        "organization",
    );
    const monitor = (pulumi.runtime as any).getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) => {
        const key = `${req.getType()}::${req.getName()}`;
        edges.set(key, {
            parent: req.getParent(),
            dependencies: req.getDependenciesList(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            retainOnDelete: !!req.getRetainondelete(),
            aliases: [...req.getAliasesList().map(describeAlias), ...req.getAliasurnsList()],
        });
        return register(req, (err: unknown, resp: any) => {
            if (resp) Object.assign(edges.get(key)!, { urn: resp.getUrn() });
            callback(err, resp);
        });
    };
    // Edges are joined lazily: records are complete once the program's registrations settle.
    return new Proxy(recorded, {
        get(target, prop, receiver) {
            for (const r of target) Object.assign(r, edges.get(`${r.type}::${r.name}`) ?? {});
            return Reflect.get(target, prop, receiver);
        },
    });
}

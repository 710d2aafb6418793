import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { CONFIG_KEYS, DEFAULTS, loadConfig, parseDuration } from "../../components/config";
import type { PlatformConfig } from "../../components/config";
import { runProgram, stackConfig } from "../support/program";

const project = "vault-eso-platform";
const password = { registryPassword: "s3cret-registry-token" };

interface Loaded {
    cfg?: PlatformConfig;
    error?: string;
    /** Every key of any namespace that was read (Config.get and friends all go through getImpl). */
    read: string[];
}

// Keys read by the current load() (Config.get, getSecret, getObject... all go through getImpl).
let read: string[] = [];
const proto = pulumi.Config.prototype as any;
const getImpl = proto.getImpl;
proto.getImpl = function (this: { name: string }, key: string, ...rest: unknown[]) {
    read.push(`${this.name}:${key}`);
    return getImpl.call(this, key, ...rest);
};

/**
 * Loads config for a stack (dev unless given) plus overrides (undefined removes a key); `raw`
 * entries are full "namespace:key" keys, for other namespaces. Loading only reads config, so one
 * SDK instance serves every load: each replaces the stack, the whole config map and its secret keys.
 */
async function load(overrides: Record<string, string | undefined>, secrets: Record<string, string> = password, raw: Record<string, string> = {}, stack = "dev"): Promise<Loaded> {
    const all = { ...stackConfig(stack), ...raw };
    for (const [k, v] of Object.entries({ ...overrides, ...secrets })) {
        if (v === undefined) delete all[`${project}:${k}`];
        else all[`${project}:${k}`] = v;
    }
    await pulumi.runtime.setMocks({ newResource: () => ({ id: "x", state: {} }), call: () => ({}) }, project, stack, false);
    pulumi.runtime.setAllConfig(all, Object.keys(secrets).map((k) => `${project}:${k}`));
    // Nothing of a previous load is left: exactly this config is visible.
    expect(pulumi.runtime.allConfig()).toEqual(all);
    read = [];
    try {
        return { cfg: loadConfig(), read };
    } catch (e) {
        return { error: (e as Error).message, read };
    }
}

async function problems(overrides: Record<string, string | undefined>, secrets?: Record<string, string>): Promise<string> {
    const { error } = await load(overrides, secrets);
    if (!error) throw new Error("expected a config error");
    return error;
}

describe("stack config", () => {
    test("the dev stack with its secret loads with the documented defaults", async () => {
        const { cfg, error } = await load({});
        expect(error).toBeUndefined();
        expect(cfg!.vault).toMatchObject({ mode: "chart", namespace: "vault", ha: false, replicas: 1, secretShares: 5, secretThreshold: 3 });
        expect(cfg!.eso).toMatchObject({ namespace: "external-secrets", storeKind: "SecretStore", refreshInterval: "1m" });
        expect(cfg!.apps.secrets).toEqual([{ name: "example-password", path: "path_to_secret", keys: ["password"], seed: "random" }]);
        expect(cfg!.auth.tokenTtlSeconds).toBe(3600);
    });

    test("Pulumi.yaml declares every scalar key with the same default as the code", () => {
        const schema = (yaml.load(fs.readFileSync(path.join(__dirname, "../../Pulumi.yaml"), "utf8")) as any).config as Record<string, { default?: unknown }>;
        for (const [key, value] of Object.entries(DEFAULTS)) {
            if (Array.isArray(value)) continue; // appSecrets: structured, documented in the README
            expect({ key, default: schema[key]?.default }).toEqual({ key, default: value });
        }
        // The CLI treats a declared key without a default as required in every stack.
        expect(Object.entries(schema).filter(([, v]) => v.default === undefined).map(([k]) => k)).toEqual([]);
    });

    test("the known keys are exactly the keys loadConfig reads", async () => {
        const { read, error } = await load({});
        expect(error).toBeUndefined();
        expect([...new Set(read)].sort()).toEqual(CONFIG_KEYS.map((k) => `${project}:${k}`).sort());
    });

    test("Pulumi.yaml declares only keys the program reads", () => {
        const schema = (yaml.load(fs.readFileSync(path.join(__dirname, "../../Pulumi.yaml"), "utf8")) as any).config as Record<string, unknown>;
        expect(Object.keys(schema).length).toBeGreaterThan(30);
        expect(Object.keys(schema).filter((k) => !CONFIG_KEYS.includes(k))).toEqual([]);
    });

    test.each([
        ["vaultHA", "true", "vaultHa"],
        ["esoRefreshInterval", "1m", "refreshInterval"],
        ["registryUserName", "someone", "registryUsername"],
        ["vaultSecretTreshold", "3", "vaultSecretThreshold"],
        ["kvpath", "kv", "kvPath"],
        ["vaultChartVerison", "0.30.1", "vaultChartVersion"],
    ])("the misspelled key %s is an error: did you mean %s?", async (typo, value, meant) => {
        expect(await problems({ [typo]: value })).toBe(
            "Invalid stack configuration (1 problem); nothing was changed:\n" +
                `  - ${project}:${typo}: is not a setting of this program and would be silently ignored; did you mean ${meant}? Rename the key in the stack file`,
        );
    });

    test("a key that resembles nothing is an error pointing at the list of settings", async () => {
        expect(await problems({ colour: "blue" })).toContain(`${project}:colour: is not a setting of this program and would be silently ignored; remove it (the settings are listed in README "Configuration")`);
    });

    test("typos and other problems come in the same single report", async () => {
        const msg = await problems({ vaultHA: "true", registryUsername: undefined, registryUserName: "someone", esoTokenTtl: "1 hour", vaultReplicas: "4", vaultHa: "true" });
        expect(msg).toContain("Invalid stack configuration (5 problems); nothing was changed");
        expect(msg).toContain(`${project}:registryUserName: is not a setting of this program and would be silently ignored; did you mean registryUsername?`);
        expect(msg).toContain(`${project}:vaultHA: is not a setting of this program and would be silently ignored; did you mean vaultHa?`);
        expect(msg).toContain(`${project}:registryUsername: required when registryPullSecret is true`);
        expect(msg).toContain(`${project}:esoTokenTtl: "1 hour" is not a duration`);
        expect(msg).toContain(`${project}:vaultReplicas: 4 replicas tolerate no more failures than 3`);
    });

    test("keys of other namespaces are left alone", async () => {
        const other = { "kubernetes:context": "kind-dev", "kubernetes:kubeconfig": "~/.kube/config", "vault:address": "https://v:8200", "vault:skipTlsVerify": "true", "vault-eso-platform-old:vaultHA": "true" };
        const { cfg, error } = await load({}, password, other);
        expect(error).toBeUndefined();
        expect(cfg!.vault.ha).toBe(false);
    });

    test("a correct config passes: every committed stack file uses only known keys, prod loads cleanly", async () => {
        for (const stack of ["dev", "prod", "local"]) {
            const bad = Object.keys(stackConfig(stack)).filter((k) => k.startsWith(`${project}:`) && !CONFIG_KEYS.includes(k.slice(project.length + 1)));
            expect({ stack, bad }).toEqual({ stack, bad: [] });
        }
        const prod = await load({ vaultCaCertFile: path.join(__dirname, "../fixtures/vault-ca.pem") }, password, { "kubernetes:context": "prod" }, "prod");
        expect(prod.error).toBeUndefined();
        expect(prod.cfg!.vault).toMatchObject({ ha: true, replicas: 3, tlsSecretName: "vault-tls" });
    });

    test("reports every problem at once, each with its key and fix", async () => {
        const msg = await problems({ vaultNamespace: "Vault_NS", vaultSecretThreshold: "7", vaultSecretShares: "5", esoTokenTtl: "1 hour" });
        expect(msg).toContain("Invalid stack configuration (3 problems); nothing was changed");
        expect(msg).toContain(`${project}:vaultNamespace: "Vault_NS" is not a valid name`);
        expect(msg).toContain(`${project}:vaultSecretThreshold: threshold 7 is greater than vaultSecretShares 5`);
        expect(msg).toContain(`${project}:esoTokenTtl: "1 hour" is not a duration`);
    });

    test.each([
        [{ appNamespace: "-bad" }, `${project}:appNamespace: "-bad" is not a valid name`],
        [{ vaultChartVersion: "^0.30" }, `${project}:vaultChartVersion: "^0.30" is not an exact chart version`],
        [{ esoChartVersion: "latest" }, `${project}:esoChartVersion: "latest" is not an exact chart version`],
        [{ vaultChartRepo: "http://insecure.example" }, `${project}:vaultChartRepo: "http://insecure.example" must be an https:// or oci:// chart repository`],
        [{ esoTokenTtl: "2d" }, `${project}:esoTokenTtl: "2d" is not a duration`],
        [{ esoTokenTtl: "48h" }, `${project}:esoTokenTtl: "48h" must be between 60s and 86400s`],
        [{ esoTokenTtl: "2h", esoTokenMaxTtl: "1h" }, `${project}:esoTokenTtl: 2h is longer than esoTokenMaxTtl 1h`],
        [{ refreshInterval: "5s" }, `${project}:refreshInterval: "5s" must be between 10s and 86400s`],
        [{ vaultSecretThreshold: "1" }, `${project}:vaultSecretThreshold: threshold 1 of 5 shares lets any single key holder unseal`],
        [{ vaultSecretShares: "11" }, `${project}:vaultSecretShares: "11" must be a whole number from 1 to 10`],
        [{ vaultHa: "yes" }, `${project}:vaultHa: "yes" is not a boolean`],
        [{ vaultHa: "true", vaultReplicas: "2" }, `${project}:vaultReplicas: HA with raft needs at least 3 replicas`],
        [{ vaultHa: "true", vaultReplicas: "4" }, `${project}:vaultReplicas: 4 replicas tolerate no more failures than 3`],
        [{ vaultMode: "cloud" }, `${project}:vaultMode: "cloud" is not one of "chart", "external"`],
        [{ vaultPodAntiAffinity: "soft" }, `${project}:vaultPodAntiAffinity: "soft" is not one of "required", "preferred"`],
        [{ vaultMode: "external" }, `${project}:vaultAddress: required when vaultMode is "external"`],
        [{ vaultAddress: "https://vault.example.com" }, `${project}:vaultAddress: only used when vaultMode is "external"`],
        [{ vaultMode: "external", vaultAddress: "vault:8200" }, `${project}:vaultAddress: "vault:8200" must use http or https`],
        [{ vaultTlsSecret: "vault-tls" }, `${project}:vaultCaCertFile: required with vaultTlsSecret`],
        [{ vaultCaCertFile: "does/not/exist.pem" }, `${project}:vaultCaCertFile: cannot read does/not/exist.pem (ENOENT)`],
        [{ vaultImage: "openbao/openbao" }, `${project}:vaultImage: "openbao/openbao" must be "repository:tag"`],
        [{ vaultImage: "registry.example.com:5000/openbao/openbao" }, `${project}:vaultImage: "registry.example.com:5000/openbao/openbao" must be "repository:tag"`],
        [{ kvPath: "kv/*" }, `${project}:kvPath: "kv/*" is not a plain Vault path`],
        [{ registryPath: "/gitlab" }, `${project}:registryPath: "/gitlab" is not a plain Vault path`],
        [{ registryUsername: undefined }, `${project}:registryUsername: required when registryPullSecret is true`],
        [{ storeKind: "ClusterStore" }, `${project}:storeKind: "ClusterStore" is not one of "SecretStore", "ClusterSecretStore"`],
        [{ vaultLocalPort: "80" }, `${project}:vaultLocalPort: "80" must be a whole number from 1024 to 65535`],
        [{ esoConcurrent: "0" }, `${project}:esoConcurrent: "0" must be a whole number from 1 to 100`],
        [{ esoConcurrent: "2.5" }, `${project}:esoConcurrent: "2.5" must be a whole number from 1 to 100`],
        [{ esoVaultTokenCache: "on" }, `${project}:esoVaultTokenCache: "on" is not a boolean`],
        [{ demoWorkload: "true", registryPullSecret: "false" }, `${project}:demoWorkload: the demo pulls its image through the synced pull secret`],
        [{ appSecrets: "[]" }, `${project}:appSecrets: must be a non-empty list`],
        [{ appSecrets: JSON.stringify([{ name: "Bad Name", path: "a/*", keys: [] }]) }, `${project}:appSecrets[0].name: "Bad Name" is not a valid name`],
        [{ appSecrets: JSON.stringify([{ name: "a", path: "a/*", keys: ["x"] }]) }, `${project}:appSecrets[0].path: "a/*" is not a plain Vault path`],
        [{ appSecrets: JSON.stringify([{ name: "a", path: "a", keys: [] }]) }, `${project}:appSecrets[0].keys: must be a non-empty list of property names`],
        [{ appSecrets: JSON.stringify([{ name: "a", path: "a", keys: ["x"], seed: "maybe" }]) }, `${project}:appSecrets[0].seed: "maybe" must be "random" or "none"`],
        [{ appSecrets: JSON.stringify([{ name: "a", path: "a", keys: ["x"] }, { name: "a", path: "b", keys: ["y"] }]) }, `${project}:appSecrets[1].name: "a" is declared twice`],
        [{ appSecrets: JSON.stringify([{ name: "a", path: "gitlab/credentials", keys: ["x"] }]) }, `${project}:appSecrets: path "gitlab/credentials" is also registryPath`],
    ])("rejects %j", async (overrides, expected) => {
        expect(await problems(overrides as Record<string, string | undefined>)).toContain(expected);
    });

    test("a missing registry password is reported with the command that sets it", async () => {
        expect(await problems({}, {})).toContain(`${project}:registryPassword: required when registryPullSecret is true: \`pulumi config set --secret registryPassword <token>\``);
    });

    test("vaultFlavor: derived from the chart in chart mode, told in external mode, checked", async () => {
        expect((await load({})).cfg!.vault.flavor).toBe("vault");
        expect((await load({ vaultChartName: "openbao" })).cfg!.vault.flavor).toBe("openbao");
        expect((await load({ vaultImage: "openbao/openbao:2.4.1" })).cfg!.vault.flavor).toBe("openbao");
        // A registry host with a port: the tag is after the last colon.
        expect((await load({ vaultChartName: "openbao", vaultImage: "registry.example.com:5000/openbao/openbao:2.7.2" })).cfg!.vault.image).toEqual({
            repository: "registry.example.com:5000/openbao/openbao",
            tag: "2.7.2",
        });
        expect((await load({ vaultMode: "external", vaultAddress: "http://127.0.0.1:8200", vaultFlavor: "openbao" })).cfg!.vault.flavor).toBe("openbao");
        expect((await load({ vaultMode: "external", vaultAddress: "http://127.0.0.1:8200" })).cfg!.vault.flavor).toBe("vault");
        const both = await problems({ vaultFlavor: "bao", vaultChartName: "openbao" });
        expect(both).toContain(`${project}:vaultFlavor: "bao" is not a server: use "vault" (HashiCorp Vault) or "openbao"`);
        expect(await problems({ vaultFlavor: "vault", vaultChartName: "openbao" })).toContain(
            `${project}:vaultFlavor: "vault" contradicts the chart/image, which run openbao; leave vaultFlavor unset in chart mode`,
        );
    });

    test("adoption needs both the keys and the root token", async () => {
        expect(await problems({}, { ...password, vaultAdoptRootToken: "root" })).toContain(`${project}:vaultAdoptUnsealKeys: adopting an existing Vault needs both`);
    });

    test("an invalid config fails the program before any resource is registered", async () => {
        const error = await runProgram("dev", { vaultSecretThreshold: "9" }, password).then(
            () => undefined,
            (e) => e,
        );
        expect(error?.message).toContain("vaultSecretThreshold: threshold 9 is greater than vaultSecretShares 5");
        expect(error.resources).toEqual([]);
    });

    test("durations parse like Vault's", () => {
        expect(parseDuration("1h30m")).toBe(5400);
        expect(parseDuration("90s")).toBe(90);
        expect(parseDuration("10")).toBeUndefined();
        expect(parseDuration("1d")).toBeUndefined();
    });
});

describe("vaultSeal", () => {
    const transit = { type: "transit", address: "http://10.214.0.1:8300", keyName: "autounseal", mountPath: "transit/", credentialsSecret: "vault-transit-token" };
    const seal = (v: unknown) => ({ vaultSeal: JSON.stringify(v) });

    test("default is shamir; a transit seal loads with its parameters and credentials Secret", async () => {
        expect((await load({})).cfg!.vault.seal).toEqual({ type: "shamir", params: {} });
        const { cfg, error } = await load(seal(transit));
        expect(error).toBeUndefined();
        expect(cfg!.vault.seal).toEqual({
            type: "transit",
            params: { address: "http://10.214.0.1:8300", keyName: "autounseal", mountPath: "transit/" },
            credentialsSecret: "vault-transit-token",
            serviceAccountAnnotations: undefined,
        });
    });

    test("workload identity replaces the credentials Secret for the KMS types", async () => {
        const { cfg, error } = await load(seal({ type: "awskms", kmsKeyId: "alias/vault", region: "eu-west-1", serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/vault-kms" } }));
        expect(error).toBeUndefined();
        expect(cfg!.vault.seal.serviceAccountAnnotations).toEqual({ "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/vault-kms" });
    });

    test("every problem at once: missing required fields, an unknown field with did-you-mean, a token in config, no credentials", async () => {
        const error = await problems(seal({ type: "transit", adress: "http://x:8200", keyName: "k", token: "hvs.not-here" }));
        expect(error).toContain(`${project}:vaultSeal.adress: not a transit parameter: did you mean address?`);
        expect(error).toContain(`${project}:vaultSeal.token: not a transit parameter Credentials never go into config: put them in the Secret named by credentialsSecret`);
        expect(error).toContain(`${project}:vaultSeal.address: required for a transit seal`);
        expect(error).toContain(`${project}:vaultSeal.mountPath: required for a transit seal`);
        expect(error).toContain(`${project}:vaultSeal.credentialsSecret: a transit seal needs a Secret in Vault's namespace holding its token`);
        expect(error).toMatch(/^Invalid stack configuration \(5 problems\)/);
    });

    test("an unknown type, shamir with parameters, workload identity on transit, bad values", async () => {
        expect(await problems(seal({ type: "kms" }))).toContain(`${project}:vaultSeal.type: "kms" is not a seal type: use one of "shamir", "transit", "awskms", "gcpckms", "azurekeyvault"`);
        expect(await problems(seal({ type: "shamir", keyName: "x" }))).toContain(`${project}:vaultSeal.keyName: shamir takes no parameters; remove it`);
        expect(await problems(seal({ ...transit, serviceAccountAnnotations: { a: "b" } }))).toContain(`${project}:vaultSeal.serviceAccountAnnotations: a transit seal authenticates with a token from credentialsSecret, not workload identity`);
        const bad = await problems(seal({ ...transit, address: "10.0.0.1:8200", tlsSkipVerify: "yes", credentialsSecret: "Not_A_Name" }));
        expect(bad).toContain(`${project}:vaultSeal.address: "10.0.0.1:8200" is not a URL`);
        expect(bad).toContain(`${project}:vaultSeal.tlsSkipVerify: "yes" must be true or false`);
        expect(bad).toContain(`${project}:vaultSeal.credentialsSecret: "Not_A_Name" is not a valid name`);
        expect(bad).toMatch(/^Invalid stack configuration \(3 problems\)/);
        expect(await problems(seal({ type: "gcpckms", project: "p", region: "global", keyRing: "r" }))).toContain(
            `${project}:vaultSeal.cryptoKey: required for a gcpckms seal`,
        );
    });

    test("external mode: only the type (the server has the stanza and its credentials)", async () => {
        const ext = { vaultMode: "external", vaultAddress: "https://vault.example.com:8200" };
        expect((await load({ ...ext, vaultSeal: "transit" })).cfg!.vault.seal).toEqual({ type: "transit", params: {} });
        expect(await problems({ ...ext, ...seal(transit) })).toContain(`${project}:vaultSeal.credentialsSecret: external mode: the seal is configured on the server itself (README "Day 2"); give only {type: transit}`);
    });

    test("a bare type name is read as {type}", async () => {
        expect((await load({ vaultSeal: "shamir" })).cfg!.vault.seal.type).toBe("shamir");
        expect(await problems({ vaultSeal: "transit" })).toContain(`${project}:vaultSeal.address: required for a transit seal`);
    });
});

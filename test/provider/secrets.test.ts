// The resource registers keys and token as secret outputs and marks adopt inputs secret (no server needed).
import * as pulumi from "@pulumi/pulumi";
import { VaultInit, vaultInitOptions } from "../../components/vault/init";
import { reuseSerializedProvider } from "../support/mocks";

test("additionalSecretOutputs always include rootToken, adminToken and unsealKeys", () => {
    expect(vaultInitOptions().additionalSecretOutputs).toEqual(["rootToken", "adminToken", "unsealKeys"]);
    const merged = vaultInitOptions({ additionalSecretOutputs: ["vaultVersion"], protect: true });
    expect(merged.protect).toBe(true);
    expect(merged.additionalSecretOutputs).toEqual(expect.arrayContaining(["vaultVersion", "rootToken", "adminToken", "unsealKeys"]));
});

interface RegisterReq {
    getAdditionalsecretoutputsList(): string[];
    getObject(): { toJavaScript(): Record<string, unknown> };
}

test("the registered resource carries the secret options and secret adopt inputs", async () => {
    const seen: { inputs: Record<string, unknown>; type: string }[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                seen.push({ inputs: args.inputs, type: args.type });
                return { id: "vault-id", state: { ...args.inputs, rootToken: "tok", unsealKeys: ["k"] } };
            },
            call: () => ({}),
        },
        "project",
        "stack",
        false,
    );
    // The provider's text is not what this test is about (shamir.test.ts checks it): reuse this run's.
    reuseSerializedProvider();
    // The engine (not the mocks) applies additionalSecretOutputs: record what reaches the monitor.
    const monitor = (pulumi.runtime as unknown as { getMonitor(): { registerResource(req: RegisterReq, cb: unknown): unknown } }).getMonitor();
    const register = monitor.registerResource.bind(monitor);
    const secretOutputs: string[][] = [];
    const wireInputs: Record<string, unknown>[] = [];
    monitor.registerResource = (req, cb) => {
        secretOutputs.push(req.getAdditionalsecretoutputsList());
        wireInputs.push(req.getObject().toJavaScript());
        return register(req, cb);
    };
    const r = new VaultInit("vault", {
        address: "http://127.0.0.1:8200",
        adoptUnsealKeys: ["adopted-key"],
        adoptRootToken: "adopted-token",
    });
    await new Promise<void>((resolve) => r.urn.apply(() => resolve()));
    expect(secretOutputs[0]).toEqual(expect.arrayContaining(["rootToken", "adminToken", "unsealKeys"]));
    const secretSig = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
    expect(wireInputs[0].adoptRootToken).toMatchObject({ ...secretSig, value: "adopted-token" });
    expect(wireInputs[0].adoptUnsealKeys).toMatchObject({ ...secretSig, value: ["adopted-key"] });
    const k8s = new VaultInit("vault-k8s", { kubernetes: { namespace: "vault", podNames: ["vault-0"], kubeconfig: "apiVersion: v1" } });
    await new Promise<void>((resolve) => k8s.urn.apply(() => resolve()));
    expect(wireInputs[1].kubernetes).toMatchObject({ ...secretSig, value: { namespace: "vault", podNames: ["vault-0"] } });
    expect(seen[0].type).toBe("pulumi-nodejs:dynamic/vault:VaultInit");
    expect(seen[0].inputs).toMatchObject({ secretShares: 5, secretThreshold: 3, timeoutSeconds: 300, adminTokenPeriod: "768h", providerVersion: expect.any(Number) });
    expect(typeof seen[0].inputs.__provider).toBe("string");
});

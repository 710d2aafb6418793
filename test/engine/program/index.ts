// Test program: one VaultInit, driven by test/engine/engine.test.ts through the real engine.
import * as pulumi from "@pulumi/pulumi";
import { VaultInit } from "../../../components/vault/init";

const cfg = new pulumi.Config();
const init = new VaultInit("vault", {
    address: cfg.require("address"),
    secretShares: 3,
    secretThreshold: 2,
    timeoutSeconds: 60,
    pgpKeys: cfg.getObject<string[]>("pgpKeys"),
    adoptUnsealKeys: cfg.getSecretObject<string[]>("adoptUnsealKeys"),
    adoptRootToken: cfg.getSecret("adoptRootToken"),
});

export const sealType = init.sealType;
export const rootToken = init.rootToken;
export const adminToken = init.adminToken;
export const unsealKeys = init.unsealKeys;

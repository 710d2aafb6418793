import * as fs from "fs";
import * as path from "path";
import { PACK_NAME, packArgs, policies } from "../../policies/pack";
import { goodStack, previewStack } from "./fixtures";
import { runPack } from "./harness";

describe("policy pack", () => {
    it("is named and mandatory by default", () => {
        expect(PACK_NAME).toBe("vault-eso-platform");
        expect(packArgs.enforcementLevel).toBe("mandatory");
        expect(policies.every((p) => p.enforcementLevel === undefined)).toBe(true);
    });

    it("has unique policy names", () => {
        const names = policies.map((p) => p.name);
        expect(new Set(names).size).toBe(names.length);
    });

    it("declares config defaults that match JSON schema types", () => {
        for (const p of policies) {
            for (const [key, schema] of Object.entries(p.configSchema?.properties ?? {})) {
                if (schema.default === undefined) {
                    continue;
                }
                const type = Array.isArray(schema.default) ? "array" : typeof schema.default === "number" ? "integer" : typeof schema.default;
                expect(`${p.name}.${key}:${schema.type}`).toBe(`${p.name}.${key}:${type}`);
            }
        }
    });

    it.each(["dev", "prod", "staging"])("passes the known-good fixtures as stack %s", async (stack) => {
        expect(await runPack(policies, goodStack, { stack })).toEqual([]);
    });

    it.each(["dev", "prod", "staging"])("passes the known-good fixtures as a real preview shows them, as stack %s", async (stack) => {
        expect(await runPack(policies, previewStack, { stack })).toEqual([]);
    });

    it.each(["dev", "prod"])("ships a valid --policy-pack-config for %s", (stack) => {
        const file = path.join(__dirname, "../../policies/config", `${stack}.json`);
        const config = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, Record<string, unknown>>;
        for (const [policyName, settings] of Object.entries(config)) {
            const policy = policies.find((p) => p.name === policyName);
            expect(policy?.name).toBe(policyName);
            for (const [key, value] of Object.entries(settings)) {
                const schema = key === "enforcementLevel" ? { enum: ["advisory", "mandatory", "disabled"] } : policy?.configSchema?.properties[key];
                expect(schema).toBeDefined();
                if (schema?.enum) {
                    expect(schema.enum).toContain(value);
                }
            }
        }
        expect(config["vault-prod-ha"]).toEqual({ environment: stack });
    });

    it("has the files the policy host needs (PulumiPolicy.yaml runtime, package.json version and main)", () => {
        const dir = path.join(__dirname, "../../policies");
        expect(fs.readFileSync(path.join(dir, "PulumiPolicy.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
        const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as Record<string, unknown>;
        expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
        expect(fs.existsSync(path.join(dir, String(pkg.main)))).toBe(true);
        // Dependencies resolve from the project's node_modules; a second copy of @pulumi/policy would not.
        expect(pkg.dependencies).toBeUndefined();
    });
});

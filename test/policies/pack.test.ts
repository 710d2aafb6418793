import { PACK_NAME, packArgs, policies } from "../../policies/pack";
import { goodStack } from "./fixtures";
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
});

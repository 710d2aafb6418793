import { PolicyParseError, parseVaultPolicy } from "../../policies/lib/hcl";
import { esoPolicyHcl } from "./fixtures";

describe("parseVaultPolicy", () => {
    it("reads path blocks with their capabilities and lines", () => {
        expect(parseVaultPolicy(esoPolicyHcl)).toEqual([
            { path: "kv/data/apps/db", capabilities: ["read"], line: 1 },
            { path: "kv/metadata/apps/db", capabilities: ["read"], line: 5 },
        ]);
    });

    it("handles comments, one-line blocks, `=` before the block, nested parameters and trailing commas", () => {
        const hcl = `
# comment with path "*" { capabilities = ["sudo"] }
// another
/* block
   comment */
path "secret/+/config" = { capabilities = ["Read", "LIST",] }
path "kv/data/app" {
  capabilities = ["create", "update"]
  allowed_parameters = {
    "ttl" = []
    "*" = ["x"]
  }
  required_parameters = ["ttl"]
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = 90
}
path "escaped\\"quote" {}
`;
        expect(parseVaultPolicy(hcl)).toEqual([
            { path: "secret/+/config", capabilities: ["read", "list"], line: 6 },
            { path: "kv/data/app", capabilities: ["create", "update"], line: 7, allowedParameters: { ttl: [], "*": ["x"] } },
            { path: 'escaped"quote', capabilities: [], line: 17 },
        ]);
    });

    it("reads the guide's policy (block brace on the next line)", () => {
        expect(parseVaultPolicy('path "*"\n{ capabilities = ["read"]\n}\n')).toEqual([{ path: "*", capabilities: ["read"], line: 1 }]);
    });

    it("reads JSON policies", () => {
        const json = JSON.stringify({ path: { "kv/data/a": { capabilities: ["read"] }, "kv/*": { capabilities: ["delete"], denied_parameters: { policies: [] } } } });
        expect(parseVaultPolicy(json)).toEqual([
            { path: "kv/data/a", capabilities: ["read"], line: 0 },
            { path: "kv/*", capabilities: ["delete"], line: 0, deniedParameters: { policies: [] } },
        ]);
    });

    it("returns no rules for an empty document", () => {
        expect(parseVaultPolicy("  \n# nothing\n")).toEqual([]);
    });

    it.each([
        ['path "a" {', "unexpected end of policy"],
        ['path "a { capabilities = ["read"] }', 'unterminated string at line 1'],
        ['path "a" { capabilities = "read" }', "capabilities must be a list of strings"],
        ['path "a" { allowed_parameters = ["x"] }', "allowed_parameters must be an object"],
        ['path "a" { capabilities = ["read"] ', "unexpected end of policy"],
        ["/* open", "unterminated comment at line 1"],
        ['path "a" { capabilities = ["read"] }\n}', 'expected a block name but found "}" at line 2'],
        ['path "a" { ; }', 'unexpected ";" at line 1'],
        ["{ not json", "invalid JSON policy"],
    ])("rejects %j", (src, error) => {
        expect(() => parseVaultPolicy(src)).toThrow(PolicyParseError);
        expect(() => parseVaultPolicy(src)).toThrow(error);
    });
});

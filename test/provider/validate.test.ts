// Input validation (check): everything is rejected before any request is made.
import { adminPolicyHcl, decodeGeneratedToken } from "../../components/vault/init/admin";
import { UNKNOWN, validate, withDefaults } from "../../components/vault/init/inputs";

const reasons = (raw: Record<string, unknown>) => validate(withDefaults({ providerVersion: 1, ...raw })).map((f) => `${f.property}: ${f.reason}`);

test.each([
    [{}, /address: set exactly one of address \/ kubernetes/],
    [{ address: "http://a:8200", kubernetes: { namespace: "v", podNames: ["p"] } }, /set exactly one/],
    [{ address: "vault:8200" }, /must be an http\(s\) URL/],
    [{ kubernetes: { namespace: "", podNames: [] } }, /namespace is required.*|podNames must list/],
    [{ kubernetes: { namespace: "v", podNames: ["p"], port: 70000 } }, /port must be 1\.\.65535/],
    [{ address: "http://a", secretShares: 2, secretThreshold: 3 }, /must not exceed secretShares/],
    [{ address: "http://a", secretShares: 3, secretThreshold: 1 }, /at least 2 when secretShares > 1/],
    [{ address: "http://a", secretShares: 0 }, /secretShares must be an integer 1\.\.255/],
    [{ address: "http://a", pgpKeys: ["k"] }, /pgpKeys must hold exactly secretShares \(5\)/],
    [{ address: "http://a", adoptUnsealKeys: [""] }, /adoptUnsealKeys must be a list of non-empty strings/],
    [{ address: "http://a", timeoutSeconds: 0 }, /timeoutSeconds must be > 0/],
    [{ address: "http://a", adminTokenPeriod: "32 days" }, /adminTokenPeriod must be a duration such as "768h"/],
    [{ address: "http://a", adminTokenPeriod: "0h" }, /adminTokenPeriod must be a duration/],
    [{ address: "http://a", adminPolicy: 42 }, /adminPolicy must be policy HCL/],
])("rejects %j", (raw, expected) => {
    expect(reasons(raw).join("\n")).toMatch(expected);
});

test("accepts defaults, 1-of-1, and unknown (preview) values", () => {
    expect(reasons({ address: "https://vault.example.com:8200" })).toEqual([]);
    expect(reasons({ address: "http://a", secretShares: 1, secretThreshold: 1 })).toEqual([]);
    expect(reasons({ kubernetes: { namespace: "v", podNames: ["vault-0", "vault-1"], scheme: "https" } })).toEqual([]);
    expect(reasons({ address: UNKNOWN, secretShares: UNKNOWN })).toEqual([]);
    expect(reasons({ kubernetes: UNKNOWN })).toEqual([]);
    expect(reasons({ address: "http://a", adminTokenPeriod: "24h", adminPolicy: 'path "kv/data/x" {\n  capabilities = ["read"]\n}\n' })).toEqual([]);
    expect(withDefaults({}).adminTokenPeriod).toBe("768h");
});

test("the pulumi-admin policy always lets the token look itself up and renew, and denies its own policy", () => {
    const bare = adminPolicyHcl(undefined);
    expect(bare).toContain('path "auth/token/lookup-self" {\n  capabilities = ["read"]\n}');
    expect(bare).toContain('path "auth/token/renew-self" {\n  capabilities = ["update"]\n}');
    expect(bare).toContain('path "sys/policies/acl/pulumi-admin" {\n  capabilities = ["deny"]\n}');
    expect(adminPolicyHcl('path "kv/data/x" {}')).toMatch(/deny[\s\S]*path "kv\/data\/x"/);
});

test("generate-root's encoded token is XORed with the OTP (what OpenBao 2.7 returned, decoded)", () => {
    // The shape observed against a real OpenBao (base64 without padding, as many bytes as the OTP),
    // with a made-up token rather than the observed one, so no token-like string is committed.
    expect(decodeGeneratedToken("AGMJN1IhEwkNaAoIKw53QQEfDSUdHz4TUEA", "sMlO3LcehExgDzZ5nthK0gGiar")).toBe("s.example-root-token-xyz12");
    expect(() => decodeGeneratedToken("AAAA", "abcdef")).toThrow(/unsupported server version/);
});

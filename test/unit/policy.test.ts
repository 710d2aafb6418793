import { renderKvReadPolicy } from "../../components/vault/policy";

describe("ESO read policy", () => {
    test("grants read on exactly the declared KV v2 data and metadata paths", () => {
        expect(renderKvReadPolicy([{ mount: "kv", path: "gitlab/credentials" }, { mount: "kv", path: "path_to_secret" }])).toBe(
            [
                'path "kv/data/gitlab/credentials" {\n  capabilities = ["read"]\n}\n',
                'path "kv/data/path_to_secret" {\n  capabilities = ["read"]\n}\n',
                'path "kv/metadata/gitlab/credentials" {\n  capabilities = ["read"]\n}\n',
                'path "kv/metadata/path_to_secret" {\n  capabilities = ["read"]\n}\n',
            ].join("\n"),
        );
    });

    test("a path declared twice is granted once", () => {
        const hcl = renderKvReadPolicy([{ mount: "kv", path: "a" }, { mount: "kv", path: "a" }]);
        expect(hcl.match(/path "/g)).toHaveLength(2);
    });

    test("refuses wildcards and empty grants", () => {
        expect(() => renderKvReadPolicy([{ mount: "kv", path: "*" }])).toThrow("refusing to render a wildcard path: kv/*");
        expect(() => renderKvReadPolicy([{ mount: "kv", path: "app/+/db" }])).toThrow("wildcard");
        expect(() => renderKvReadPolicy([])).toThrow("no KV paths declared");
    });
});

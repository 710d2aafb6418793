// The pulumi-admin policy the program renders: exactly the managed paths, nothing of KV beyond the seeds.
import { renderAdminPolicy } from "../../components/vault/policy";

const paths = (hcl: string) => [...hcl.matchAll(/path "([^"]+)" \{\n  capabilities = \[([^\]]*)\]/g)].map((m) => [m[1], m[2]]);

describe("renderAdminPolicy", () => {
    const hcl = renderAdminPolicy({ authMounts: ["kubernetes"], kvMounts: [{ path: "kv", seedPaths: ["path_to_secret", "gitlab/credentials"] }], audit: "api" });

    test("grants the auth mount, its config and roles, the role policies, the KV mount, the seeds and the audit device", () => {
        expect(paths(hcl).map((p) => p[0])).toEqual([
            "sys/auth",
            "sys/auth/kubernetes",
            "sys/auth/kubernetes/tune",
            "sys/mounts/auth/kubernetes",
            "sys/mounts/auth/kubernetes/tune",
            "auth/kubernetes/config",
            "auth/kubernetes/role",
            "auth/kubernetes/role/*",
            "sys/policies/acl",
            "sys/policies/acl/*",
            "sys/mounts",
            "sys/mounts/kv",
            "sys/mounts/kv/tune",
            "kv/data/gitlab/credentials",
            "kv/metadata/gitlab/credentials",
            "kv/data/path_to_secret",
            "kv/metadata/path_to_secret",
            "sys/audit",
            "sys/audit/file",
        ]);
    });

    test("no KV wildcard, no token creation, no seal/raft/generate-root paths", () => {
        const all = paths(hcl).map((p) => p[0]);
        expect(all.filter((p) => p.startsWith("kv/") && p.includes("*"))).toEqual([]);
        expect(all.some((p) => /^(auth\/token|sys\/(seal|raw|storage|generate-root|rekey|unseal))/.test(p))).toBe(false);
    });

    test("OpenBao reads sys/audit only; audit off grants nothing of it; several mounts do not repeat the list paths", () => {
        const bao = renderAdminPolicy({ authMounts: ["a", "b"], kvMounts: [], audit: "read" });
        expect(paths(bao).filter((p) => p[0].startsWith("sys/audit"))).toEqual([["sys/audit", '"read", "sudo"']]);
        expect(paths(bao).filter((p) => p[0] === "sys/auth")).toHaveLength(1);
        expect(renderAdminPolicy({ authMounts: [], kvMounts: [], audit: "none" })).not.toContain("sys/audit");
    });

    test("wildcards in mounts or seed paths are refused", () => {
        expect(() => renderAdminPolicy({ authMounts: ["k*"], kvMounts: [], audit: "none" })).toThrow(/wildcard/);
        expect(() => renderAdminPolicy({ authMounts: [], kvMounts: [{ path: "kv", seedPaths: ["a/*"] }], audit: "none" })).toThrow(/wildcard/);
    });
});

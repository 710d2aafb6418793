// Engine tier: the hub side of hub-and-spokes on the real OpenBao. The local stack declares two
// spokes; for each it enables the auth mount spokes/<name>, writes the one reader policy its roles
// may hand out (read below spokes/<name>/<the login's namespace>/) and mints a token that configures
// that mount, writes roles handing out exactly that policy, and KV below its prefix (Vault's 403
// everywhere else: no policy write, no mount, no role granting another policy). Each spoke's mount
// reviews tokens against its own control plane (a second loopback plane for the second spoke), so a
// spoke's reader presented at the other's mount is refused. Removing a spoke revokes its token and
// disables its mount, nothing else.
// `h`: { dir, POk, needsPulumi, bao(method, path, body, token), rootToken(), stackOutput(name), kube() }.
import * as fs from "node:fs";
import * as path from "node:path";
import { Kube, allocateState, cfgArgs, makePki, paths, startControlPlane, stopAll } from "../../../scripts/local/lib.mjs";
import { assert, eq } from "../lib/assertions.mjs";
import { appliedSteps, plannedSteps, sameSteps } from "./previews.mjs";

const SPOKES = [{ name: "eu-1" }, { name: "us-1" }];
const INIT_UPDATE = "update pulumi-nodejs:dynamic/vault:VaultInit platform-init";
const spokeSteps = (op, name) => [
    `${op} platform:fleet:SpokeAccess platform-spoke-${name}`,
    `${op} vault:index/authBackend:AuthBackend platform-spoke-${name}-mount`,
    `${op} vault:index/policy:Policy platform-spoke-${name}-reader`,
    `${op} vault:index/policy:Policy platform-spoke-${name}-policy`,
    `${op} vault:tokenauth/authBackendRole:AuthBackendRole platform-spoke-${name}-role`,
    `${op} vault:index/token:Token platform-spoke-${name}-token`,
];

/** A reader and a token reviewer on a plane; returns what a spoke's mount config needs. */
async function prepareCluster(kube, plane) {
    const ns = "spoke-apps";
    await kube.request("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    for (const sa of ["reader", "vault-reviewer"]) await kube.request("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa } });
    await kube.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
        apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "spoke-vault-reviewer" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
        subjects: [{ kind: "ServiceAccount", name: "vault-reviewer", namespace: ns }],
    });
    const reviewer = await kube.token(ns, "vault-reviewer", { expirationSeconds: 3600 });
    return { ns, host: plane.server, ca: plane.ca, reviewer };
}

export const spokeCheck = (r, h, n) =>
    r.check(n, "hub and spokes (hub side): per spoke the hub enables its mount and owns its reader policy; the spoke's token configures the mount, writes roles that hand out only that policy and KV below its prefix (403 on any policy write, mount, or role granting another policy); a reader reads only its namespace's folder, and is refused at the other spoke's mount; a spoke removed: its token revoked, its mount disabled, nothing else changes", async () => {
        h.needsPulumi("spoke tokens minted by the hub stack");
        const setSpokes = (list) => h.POk(["config", "set", ...cfgArgs(h.dir), "vault-eso-platform:spokes", "--", JSON.stringify(list)]);
        const notes = [];
        try {
            await setSpokes(SPOKES);
            // The admin token gains the spoke grants once: one init update; each spoke, its 6 steps.
            const expected = [...spokeSteps("create", "eu-1"), ...spokeSteps("create", "us-1"), INIT_UPDATE];
            sameSteps(plannedSteps((await h.POk(["preview", "--json", ...cfgArgs(h.dir)])).stdout), expected, "preview of two spokes added");
            sameSteps(appliedSteps((await h.POk(["up", "--yes", "--skip-preview", "--json", ...cfgArgs(h.dir)])).stdout), expected, "up of two spokes added");
            const tokens = await h.stackOutput("spokeTokens");
            const [A, B] = [tokens["eu-1"], tokens["us-1"]];
            assert(A && B && A !== B, "spokeTokens does not hold two distinct tokens");
            const lookup = (await h.bao("GET", "auth/token/lookup-self", undefined, A)).json?.data;
            eq([lookup?.policies, lookup?.orphan, lookup?.renewable], [["pulumi-spoke-eu-1"], true, true], "spoke eu-1's token: policies, orphan, renewable");
            const role = (await h.bao("GET", "auth/token/roles/pulumi-spoke-eu-1", undefined, await h.rootToken())).json?.data;
            eq([role?.allowed_policies, role?.orphan, role?.token_period], [["pulumi-spoke-eu-1"], true, 768 * 3600], "its token role: allowed policies, orphan, period");

            // Spoke us-1 on a second loopback control plane: its own etcd, apiserver, signing key.
            const dirB = path.join(h.dir, "spoke-us-1");
            const stB = await allocateState(dirB);
            makePki(dirB);
            const planeB = await startControlPlane(dirB, stB, { controllerManager: false });
            try {
                const caOf = (d) => fs.readFileSync(path.join(paths(d).certs, "ca.crt"), "utf8");
                const kubeA = h.kube();
                const kubeB = Kube.admin(dirB);
                const clusters = {
                    "eu-1": { token: A, kube: kubeA, ...(await prepareCluster(kubeA, { server: `https://127.0.0.1:${JSON.parse(fs.readFileSync(paths(h.dir).stateJson, "utf8")).apiPort}`, ca: caOf(h.dir) })) },
                    "us-1": { token: B, kube: kubeB, ...(await prepareCluster(kubeB, { server: planeB.server, ca: caOf(dirB) })) },
                };
                // What a spoke stack does with its token: the config of its mount, a role, KV entries
                // (its reader's namespace's folder, and another namespace's).
                for (const [name, c] of Object.entries(clusters)) {
                    const mount = `spokes/${name}`;
                    const steps = [
                        ["POST", `auth/${mount}/config`, { kubernetes_host: c.host, kubernetes_ca_cert: c.ca, token_reviewer_jwt: c.reviewer, disable_iss_validation: true }],
                        ["POST", `auth/${mount}/role/reader`, { bound_service_account_names: ["reader"], bound_service_account_namespaces: [c.ns], token_policies: [`pulumi-spoke-${name}-reader`], audience: "vault", token_ttl: 600 }],
                        ["POST", `kv/data/spokes/${name}/${c.ns}/db`, { data: { password: `for-${name}` } }],
                        ["POST", `kv/data/spokes/${name}/other-ns/db`, { data: { password: `other-${name}` } }],
                    ];
                    for (const [m, p, b] of steps) {
                        const res = await h.bao(m, p, b, c.token);
                        assert(res.status === 200 || res.status === 204, `spoke ${name}'s token: ${m} ${p}: HTTP ${res.status} ${JSON.stringify(res.json?.errors ?? "")}`);
                    }
                }
                notes.push("each spoke's token: the mount its hub enabled configured (its own plane's TokenReview), a role handing out the hub's reader policy, KV entries below its prefix");
                // The ways a spoke could grant itself the hub (docs/tenant-shards.md §2): Vault's own 403 each.
                const role = (policies) => ({ bound_service_account_names: ["reader"], bound_service_account_namespaces: ["spoke-apps"], ...policies });
                const escalation = [
                    ["PUT", "sys/policies/acl/eu-1-x", { policy: 'path "*" { capabilities = ["read"] }' }],
                    ["PUT", "sys/policies/acl/pulumi-spoke-eu-1-reader", { policy: 'path "*" { capabilities = ["read"] }' }],
                    ["POST", "sys/auth/kubernetes-eu-1", { type: "approle" }],
                    ["POST", "sys/auth/spokes/eu-1/x", { type: "approle" }],
                    ["DELETE", "sys/auth/spokes/eu-1"],
                    ["POST", "sys/auth/spokes/eu-1/tune", { default_lease_ttl: "1h" }],
                    ["POST", "auth/spokes/eu-1/role/x", role({ token_policies: ["pulumi-admin"] })],
                    ["POST", "auth/spokes/eu-1/role/x", role({ token_policies: "pulumi-admin" })],
                    ["POST", "auth/spokes/eu-1/role/x", role({ token_policies: ["pulumi-spoke-eu-1-reader", "pulumi-admin"] })],
                    ["POST", "auth/spokes/eu-1/role/x", role({ token_policies: "pulumi-spoke-eu-1-reader,pulumi-admin" })],
                    ["POST", "auth/spokes/eu-1/role/x", role({ token_policies: ["pulumi-spoke-eu-1-reader"], policies: ["pulumi-admin"] })],
                    ["POST", "auth/spokes/eu-1/role/x", role({ token_policies: ["pulumi-spoke-eu-1-reader"], alias_metadata: { service_account_namespace: "other-ns" } })],
                    ["POST", "auth/spokes/eu-1/role/reader", role({ token_policies: ["default"] })],
                ];
                for (const [m, p, b] of escalation) eq([m, p, JSON.stringify(b ?? {}), (await h.bao(m, p, b, A)).status], [m, p, JSON.stringify(b ?? {}), 403], "spoke eu-1's token granting itself more");
                notes.push(`spoke eu-1's token: 403 on ${escalation.length} ways to grant itself more (policy writes, mounts of another type, its mount disabled or tuned, roles handing out another policy as a list, a string, a comma list, the legacy policies key, alias_metadata)`);
                // A's token on everything else that is not A's: Vault's own 403.
                const denied = [
                    ["POST", "sys/auth/spokes/us-1/tune", { default_lease_ttl: "1h" }],
                    ["POST", "auth/spokes/us-1/role/reader", { bound_service_account_names: ["x"], bound_service_account_namespaces: ["x"], token_policies: ["pulumi-spoke-eu-1-reader"] }],
                    ["DELETE", "auth/spokes/us-1/role/reader"],
                    ["POST", "auth/spokes/us-1/config", { kubernetes_host: "https://attacker.invalid" }],
                    ["PUT", "sys/policies/acl/us-1-reader", { policy: 'path "*" { capabilities = ["read"] }' }],
                    ["PUT", "sys/policies/acl/pulumi-spoke-eu-1", { policy: 'path "*" { capabilities = ["sudo"] }' }],
                    ["PUT", "sys/policies/acl/pulumi-admin", { policy: 'path "*" { capabilities = ["sudo"] }' }],
                    ["GET", "kv/data/spokes/us-1/spoke-apps/db"],
                    ["POST", "kv/data/spokes/us-1/spoke-apps/db", { data: { password: "overwritten" } }],
                    ["GET", "kv/data/path_to_secret"],
                    ["POST", "sys/mounts/kv/tune", { max_versions: 1 }],
                    ["POST", "sys/auth/kubernetes-zz", { type: "kubernetes" }],
                    ["POST", "auth/kubernetes/role/external-secrets", { bound_service_account_names: ["x"], bound_service_account_namespaces: ["x"] }],
                    ["POST", "auth/token/create", { policies: ["pulumi-spoke-eu-1"] }],
                ];
                for (const [m, p, b] of denied) eq([m, p, (await h.bao(m, p, b, A)).status], [m, p, 403], "spoke eu-1's token outside its scope");
                notes.push(`spoke eu-1's token: 403 on ${denied.length} requests (us-1's mount, config, roles, policies and KV; its own scope policy; pulumi-admin; the hub's KV, mounts and role; token create)`);
                // A's reader at its own mount: a token that reads its namespace's folder only; at B's
                // mount (B's plane reviews it): refused.
                const jwtA = await kubeA.token(clusters["eu-1"].ns, "reader", { audiences: ["vault"], expirationSeconds: 600 });
                const own = await h.bao("POST", "auth/spokes/eu-1/login", { role: "reader", jwt: jwtA });
                eq(own.status, 200, "eu-1's reader at spokes/eu-1");
                eq([...own.json.auth.policies].sort(), ["default", "pulumi-spoke-eu-1-reader"], "eu-1's reader's policies (Vault's default and the hub's reader policy)");
                const readerToken = own.json.auth.client_token;
                const read = (p) => h.bao("GET", p, undefined, readerToken);
                eq((await read("kv/data/spokes/eu-1/spoke-apps/db")).json?.data?.data, { password: "for-eu-1" }, "eu-1's reader on its namespace's entry");
                for (const p of ["kv/data/spokes/eu-1/other-ns/db", "kv/data/spokes/us-1/spoke-apps/db", "kv/data/path_to_secret"]) eq([p, (await read(p)).status], [p, 403], "eu-1's reader outside its namespace's folder");
                const cross = await h.bao("POST", "auth/spokes/us-1/login", { role: "reader", jwt: jwtA });
                assert(cross.status === 403, `eu-1's reader at spokes/us-1: HTTP ${cross.status} (expected 403)`);
                notes.push(`eu-1's reader: 200 at its mount, reads spokes/eu-1/spoke-apps/ only (403 on another namespace's folder, us-1's, the hub's); at us-1's mount HTTP ${cross.status} (us-1's apiserver does not know the token)`);

                // us-1 leaves the fleet: exactly its 6 deletes (the admin policy keeps its grants for eu-1).
                await setSpokes([SPOKES[0]]);
                const removal = spokeSteps("delete", "us-1");
                sameSteps(plannedSteps((await h.POk(["preview", "--json", ...cfgArgs(h.dir)])).stdout), removal, "preview of spoke us-1 removed");
                sameSteps(appliedSteps((await h.POk(["up", "--yes", "--skip-preview", "--json", ...cfgArgs(h.dir)])).stdout), removal, "up of spoke us-1 removed");
                eq((await h.bao("GET", "auth/token/lookup-self", undefined, B)).status, 403, "us-1's token after its removal");
                eq((await h.bao("GET", "auth/token/lookup-self", undefined, A)).status, 200, "eu-1's token after us-1's removal");
                eq((await h.bao("GET", "auth/spokes/eu-1/role/reader", undefined, A)).status, 200, "eu-1's role after us-1's removal");
                const mounts = Object.keys((await h.bao("GET", "sys/auth", undefined, await h.rootToken())).json?.data ?? {});
                assert(mounts.includes("spokes/eu-1/") && !mounts.includes("spokes/us-1/"), `auth mounts after us-1's removal: ${mounts.join(", ")}`);
                notes.push("us-1 removed: exactly its 6 deletes; its token revoked (403), its mount disabled; eu-1's token, mount and role untouched");
            } finally {
                // The KV entries the spokes' tokens wrote are theirs, not the hub stack's: removed with a root token.
                const root = await h.rootToken();
                for (const name of ["eu-1", "us-1"]) {
                    for (const ns of ["spoke-apps", "other-ns"]) await h.bao("DELETE", `kv/metadata/spokes/${name}/${ns}/db`, undefined, root);
                }
                await h.kube().request("DELETE", "/api/v1/namespaces/spoke-apps");
                await h.kube().request("DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/spoke-vault-reviewer");
                await stopAll(dirB);
            }
            // The last spoke leaves with `spokes: []`: the admin token keeps the grant that revokes it.
            await setSpokes([]);
            sameSteps(appliedSteps((await h.POk(["up", "--yes", "--skip-preview", "--json", ...cfgArgs(h.dir)])).stdout), spokeSteps("delete", "eu-1"), "up of the last spoke removed");
            eq((await h.bao("GET", "auth/token/lookup-self", undefined, A)).status, 403, "eu-1's token after its removal");
        } finally {
            // The stack without spokes again, whatever happened (later checks run older programs).
            await h.P(["config", "rm", ...cfgArgs(h.dir), "vault-eso-platform:spokes"]);
        }
        // Then without the key: the admin policy drops the grant (one init update).
        sameSteps(appliedSteps((await h.POk(["up", "--yes", "--skip-preview", "--json", ...cfgArgs(h.dir)])).stdout), [INIT_UPDATE], "up without the spokes key");
        notes.push("the last spoke removed with spokes: [] (its token revoked), then the key removed: one admin-policy update");
        return notes;
    });

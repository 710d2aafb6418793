// Engine tier: the hub side of hub-and-spokes on the real OpenBao. The local stack declares two
// spokes; each gets a token that manages only its own auth mount, `<spoke>-*` policies and KV prefix
// (Vault's 403 everywhere else, its own scope policy included). Each spoke's mount reviews tokens
// against its own control plane (a second loopback plane for the second spoke), so a spoke's reader
// presented at the other's mount is refused. Removing a spoke revokes its token and nothing else.
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
    r.check(n, "hub and spokes (hub side): per spoke a token that manages only its mount, <spoke>-* policies and KV prefix (403 elsewhere); a spoke's reader refused at the other's mount; a spoke removed: its token revoked, nothing else changes", async () => {
        h.needsPulumi("spoke tokens minted by the hub stack");
        const setSpokes = (list) => h.POk(["config", "set", ...cfgArgs(h.dir), "vault-eso-platform:spokes", "--", JSON.stringify(list)]);
        const notes = [];
        try {
            await setSpokes(SPOKES);
            // The admin token gains the token-role grants once: one init update; each spoke, its 4 steps.
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
                // What a spoke stack does with its token: its mount, its config, a policy and a role.
                for (const [name, c] of Object.entries(clusters)) {
                    const mount = `kubernetes-${name}`;
                    const steps = [
                        ["POST", `sys/auth/${mount}`, { type: "kubernetes" }],
                        ["POST", `auth/${mount}/config`, { kubernetes_host: c.host, kubernetes_ca_cert: c.ca, token_reviewer_jwt: c.reviewer, disable_iss_validation: true }],
                        ["PUT", `sys/policies/acl/${name}-reader`, { policy: `path "kv/data/spokes/${name}/*" {\n  capabilities = ["read"]\n}\n` }],
                        ["POST", `auth/${mount}/role/reader`, { bound_service_account_names: ["reader"], bound_service_account_namespaces: [c.ns], token_policies: [`${name}-reader`], audience: "vault", token_ttl: 600 }],
                        ["POST", `kv/data/spokes/${name}/db`, { data: { password: `for-${name}` } }],
                    ];
                    for (const [m, p, b] of steps) {
                        const res = await h.bao(m, p, b, c.token);
                        assert(res.status === 200 || res.status === 204, `spoke ${name}'s token: ${m} ${p}: HTTP ${res.status} ${JSON.stringify(res.json?.errors ?? "")}`);
                    }
                }
                notes.push("each spoke's token: its mount enabled and configured (its own plane's TokenReview), a <spoke>-* policy, a role, a KV entry below its prefix");
                // A's token on everything that is not A's: Vault's own 403.
                const denied = [
                    ["POST", "sys/auth/kubernetes-us-1/tune", { default_lease_ttl: "1h" }],
                    ["POST", "auth/kubernetes-us-1/role/reader", { bound_service_account_names: ["x"], bound_service_account_namespaces: ["x"] }],
                    ["DELETE", "auth/kubernetes-us-1/role/reader"],
                    ["POST", "auth/kubernetes-us-1/config", { kubernetes_host: "https://attacker.invalid" }],
                    ["PUT", "sys/policies/acl/us-1-reader", { policy: 'path "*" { capabilities = ["read"] }' }],
                    ["PUT", "sys/policies/acl/pulumi-spoke-eu-1", { policy: 'path "*" { capabilities = ["sudo"] }' }],
                    ["PUT", "sys/policies/acl/pulumi-admin", { policy: 'path "*" { capabilities = ["sudo"] }' }],
                    ["GET", "kv/data/spokes/us-1/db"],
                    ["POST", "kv/data/spokes/us-1/db", { data: { password: "overwritten" } }],
                    ["GET", "kv/data/path_to_secret"],
                    ["POST", "sys/mounts/kv/tune", { max_versions: 1 }],
                    ["POST", "sys/auth/kubernetes-zz", { type: "kubernetes" }],
                    ["POST", "auth/kubernetes/role/external-secrets", { bound_service_account_names: ["x"], bound_service_account_namespaces: ["x"] }],
                    ["POST", "auth/token/create", { policies: ["pulumi-spoke-eu-1"] }],
                ];
                for (const [m, p, b] of denied) eq([m, p, (await h.bao(m, p, b, A)).status], [m, p, 403], "spoke eu-1's token outside its scope");
                notes.push(`spoke eu-1's token: 403 on ${denied.length} requests (us-1's mount, config, roles, policies and KV; its own scope policy; pulumi-admin; the hub's KV, mounts and role; token create)`);
                // A's reader at its own mount: a token; at B's mount (B's plane reviews it): refused.
                const jwtA = await kubeA.token(clusters["eu-1"].ns, "reader", { audiences: ["vault"], expirationSeconds: 600 });
                const own = await h.bao("POST", "auth/kubernetes-eu-1/login", { role: "reader", jwt: jwtA });
                eq(own.status, 200, "eu-1's reader at kubernetes-eu-1");
                eq((await h.bao("GET", "kv/data/spokes/eu-1/db", undefined, own.json.auth.client_token)).status, 200, "eu-1's reader on its own entry");
                const cross = await h.bao("POST", "auth/kubernetes-us-1/login", { role: "reader", jwt: jwtA });
                assert(cross.status === 403, `eu-1's reader at kubernetes-us-1: HTTP ${cross.status} (expected 403)`);
                notes.push(`eu-1's reader: 200 at its mount; at us-1's mount HTTP ${cross.status} (us-1's apiserver does not know the token)`);

                // us-1 leaves the fleet: exactly its 4 deletes (the admin policy keeps its grants for eu-1).
                await setSpokes([SPOKES[0]]);
                const removal = spokeSteps("delete", "us-1");
                sameSteps(plannedSteps((await h.POk(["preview", "--json", ...cfgArgs(h.dir)])).stdout), removal, "preview of spoke us-1 removed");
                sameSteps(appliedSteps((await h.POk(["up", "--yes", "--skip-preview", "--json", ...cfgArgs(h.dir)])).stdout), removal, "up of spoke us-1 removed");
                eq((await h.bao("GET", "auth/token/lookup-self", undefined, B)).status, 403, "us-1's token after its removal");
                eq((await h.bao("GET", "auth/token/lookup-self", undefined, A)).status, 200, "eu-1's token after us-1's removal");
                eq((await h.bao("GET", "auth/kubernetes-eu-1/role/reader", undefined, A)).status, 200, "eu-1's role after us-1's removal");
                notes.push("us-1 removed: exactly its 4 deletes; its token revoked (403); eu-1's token and role untouched");
            } finally {
                // What the spokes' tokens created is theirs, not the hub stack's: cleaned up with a root token.
                const root = await h.rootToken();
                for (const name of ["eu-1", "us-1"]) {
                    await h.bao("DELETE", `sys/auth/kubernetes-${name}`, undefined, root);
                    await h.bao("DELETE", `sys/policies/acl/${name}-reader`, undefined, root);
                    await h.bao("DELETE", `kv/metadata/spokes/${name}/db`, undefined, root);
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

// Both tiers: the tenant Secret guard (components/tenants/secretGuard.ts) as the API server enforces
// it. In a tenant namespace ESO keeps syncing; a Secret made by hand (a tenant's user with RBAC to
// create Secrets, or the cluster admin) is denied with the guard's message; system Secret types pass.
import { assert, eq } from "../lib/assertions.mjs";

const opaque = (name) => ({ apiVersion: "v1", kind: "Secret", metadata: { name }, type: "Opaque", stringData: { password: "by-hand" } });

/**
 * `kube`: the cluster admin (a Kube from scripts/local/lib/kube.mjs). `namespace`: a guarded tenant
 * namespace; `synced`: the name of a Secret ESO wrote there; `touch()`: changes its value in Vault
 * and resolves once the new value is in the Secret (ESO writing under the guard).
 */
export async function secretGuardDrill(kube, { namespace, synced, touch }) {
    const notes = [];
    const post = (k, body) => k.request("POST", `/api/v1/namespaces/${namespace}/secrets`, body);
    const denied = (r, who) => {
        assert(r.status === 403 || r.status === 422, `${who}: HTTP ${r.status} (expected a denial): ${r.json?.message ?? ""}`);
        const msg = r.json?.message ?? "";
        assert(/ValidatingAdmissionPolicy 'tenant-secret-guard\./.test(msg) && /declare an ExternalSecret/.test(msg), `${who}: not the guard's message: ${msg}`);
        return msg;
    };
    // ESO's writes pass the guard.
    const t0 = Date.now();
    await touch();
    notes.push(`ESO updated ${namespace}/${synced} under the guard in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    // A tenant's user, allowed by RBAC to write Secrets: denied by the guard, not by RBAC.
    const sa = "developer";
    await kube.request("POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa } });
    await kube.request("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`, {
        apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "secret-writer" },
        rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["create", "update", "patch", "get"] }],
    });
    await kube.request("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
        apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "developer-secret-writer" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "secret-writer" },
        subjects: [{ kind: "ServiceAccount", name: sa, namespace }],
    });
    try {
        const dev = kube.withToken(await kube.token(namespace, sa, { expirationSeconds: 600 }));
        const msg = denied(await post(dev, opaque("by-hand")), "a tenant user's kubectl create secret generic");
        assert(msg.includes(`system:serviceaccount:${namespace}:${sa}`), `the denial does not name the user: ${msg}`);
        notes.push(`tenant user: ${msg.replace(/\s+/g, " ").slice(0, 220)}`);
        denied(await post(dev, { ...opaque("pull"), type: "kubernetes.io/dockerconfigjson", stringData: { ".dockerconfigjson": '{"auths":{}}' } }), "a tenant user's dockerconfigjson Secret");
        // The cluster admin too, and an edit of ESO's own Secret.
        denied(await post(kube, opaque("by-admin")), "the cluster admin's Opaque Secret");
        const cur = await kube.request("GET", `/api/v1/namespaces/${namespace}/secrets/${synced}`);
        eq(cur.status, 200, `GET ${namespace}/${synced}`);
        const edited = { ...cur.json, data: { ...cur.json.data, injected: Buffer.from("x").toString("base64") } };
        denied(await kube.request("PUT", `/api/v1/namespaces/${namespace}/secrets/${synced}`, edited), "the cluster admin editing ESO's Secret");
        notes.push("denied: a tenant user's Opaque and dockerconfigjson Secrets, the admin's Secret, the admin's edit of ESO's Secret");
        // Other types are not the guard's business.
        for (const [name, body] of [
            ["sa-token", { apiVersion: "v1", kind: "Secret", metadata: { name: "sa-token", annotations: { "kubernetes.io/service-account.name": sa } }, type: "kubernetes.io/service-account-token" }],
            ["tls", { apiVersion: "v1", kind: "Secret", metadata: { name: "tls" }, type: "kubernetes.io/tls", stringData: { "tls.crt": "", "tls.key": "" } }],
        ]) {
            const r = await post(kube, body);
            eq(r.status, 201, `the admin's ${body.type} Secret (HTTP, ${r.json?.message ?? ""})`);
            await kube.request("DELETE", `/api/v1/namespaces/${namespace}/secrets/${name}`);
        }
        notes.push("allowed: service-account-token and kubernetes.io/tls Secrets");
    } finally {
        await kube.request("DELETE", `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings/developer-secret-writer`);
        await kube.request("DELETE", `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles/secret-writer`);
        await kube.request("DELETE", `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}`);
    }
    return notes;
}

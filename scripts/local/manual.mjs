// Wires the local stack WITHOUT the Pulumi providers, the way the program would (used by
// `up.mjs --manual` and by bench.mjs while the kubernetes/vault/random plugins are unavailable,
// see tools/README.md): CRDs from the ESO bundle, namespaces and service accounts, the reviewer
// ClusterRoleBinding, OpenBao init/unseal + kubernetes auth + policy + role + KV v2 + seeds,
// SecretStore (serviceAccountRef, audience vault) and ExternalSecrets. The ESO controller gets
// the chart's own controller ClusterRole + ClusterRoleBinding (templates/rbac.yaml rendered by the
// tiny evaluator below: no helm here). Secrets stay in memory; returns the root token and unseal
// keys to the caller.
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as path from "node:path";
import { Kube, bao, paths, readState, toolPath, waitFor } from "./lib.mjs";

export const MANUAL = {
    appNs: "demo-external-secrets",
    esoNs: "external-secrets",
    secrets: [
        { name: "example-password", path: "path_to_secret", keys: ["password"] },
        { name: "database-credentials", path: "apps/database", keys: ["username", "password"] },
    ],
    refreshInterval: "10s",
};

/**
 * Renders the chart's controller ClusterRole and ClusterRoleBinding from templates/rbac.yaml with
 * the chart's default values: supports exactly the constructs that file uses (if / if and / else /
 * end on .Values booleans, the fullname/serviceAccountName/namespace helpers, labels dropped) and
 * throws on anything else.
 */
export function renderChartControllerRbac(chartDir, { namespace, serviceAccount, fullname = "external-secrets" }) {
    const yaml = createRequire(import.meta.url)("js-yaml");
    const values = yaml.load(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8"));
    const val = (ref) => ref.replace(/^\.Values\./, "").split(".").reduce((o, k) => (o == null ? undefined : o[k]), values);
    const out = [];
    const stack = [];
    const active = () => stack.every((x) => x.on);
    for (const line of fs.readFileSync(path.join(chartDir, "templates", "rbac.yaml"), "utf8").split("\n")) {
        let m;
        if ((m = /^\s*\{\{-?\s*if\s+and\s+(\.Values\.[\w.]+)\s+(\.Values\.[\w.]+)\s*-?\}\}\s*$/.exec(line))) {
            stack.push({ on: !!(val(m[1]) && val(m[2])) });
        } else if ((m = /^\s*\{\{-?\s*if\s+(\.Values\.[\w.]+)\s*-?\}\}\s*$/.exec(line))) {
            stack.push({ on: !!val(m[1]) });
        } else if (/^\s*\{\{-?\s*else\s*-?\}\}\s*$/.test(line)) {
            stack[stack.length - 1].on = !stack[stack.length - 1].on;
        } else if (/^\s*\{\{-?\s*end\s*-?\}\}\s*$/.test(line)) {
            stack.pop();
        } else if (active()) {
            if (/include "external-secrets\.labels"/.test(line)) continue;
            const l = line
                .replace(/\{\{\s*include "external-secrets\.fullname" \.\s*\}\}/g, fullname)
                .replace(/\{\{\s*include "external-secrets\.serviceAccountName" \.\s*\}\}/g, serviceAccount)
                .replace(/\{\{\s*template "external-secrets\.namespace" \.\s*\}\}/g, namespace);
            if (l.includes("{{")) throw new Error(`rbac.yaml: unsupported template construct: ${line.trim()}`);
            out.push(l);
        }
    }
    // Only the controller's docs (their labels: come solely from the dropped helper).
    const docs = out
        .join("\n")
        .split(/^---\s*$/m)
        .filter((d) => new RegExp(`^  name: ${fullname}-controller\\s*$`, "m").test(d))
        .map((d) => yaml.load(d.replace(/^(\s*)labels:\s*$/gm, "$1labels: {}")))
        .filter(Boolean);
    const pick = (kind) => docs.find((d) => d.kind === kind && d.metadata.name === `${fullname}-controller`);
    const role = pick("ClusterRole");
    const binding = pick("ClusterRoleBinding");
    if (!role || !binding) throw new Error("rbac.yaml: controller ClusterRole/ClusterRoleBinding not found");
    return [role, binding];
}

export async function wireManually(dir, { registryPassword }) {
    const st = readState(dir);
    const kube = Kube.admin(dir);
    const k = async (method, p, body) => {
        const r = await kube.request(method, p, body, { contentType: method === "PATCH" ? "application/apply-patch+yaml" : "application/json" });
        if (r.status >= 300 && r.status !== 409) throw new Error(`${method} ${p}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
        return r;
    };
    const b = async (method, p, body, token) => {
        const r = await bao(dir, method, p, body, token);
        if (r.status >= 300) throw new Error(`OpenBao ${method} ${p}: HTTP ${r.status} ${JSON.stringify(r.json.errors ?? "")}`);
        return r;
    };

    // CRDs (server-side apply, one document at a time).
    const bundle = fs.readFileSync(path.join(toolPath("external-secrets-crds"), "bundle.yaml"), "utf8");
    for (const doc of bundle.split(/^---\s*$/m).filter((d) => /kind:\s*CustomResourceDefinition/.test(d))) {
        const name = /^\s{2}name:\s*(\S+)/m.exec(doc)[1];
        await k("PATCH", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}?fieldManager=local-manual&force=true`, doc);
    }
    for (const crd of ["secretstores", "externalsecrets"]) {
        await waitFor(`CRD ${crd} established`, async () => {
            const r = await kube.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}.external-secrets.io`);
            return (r.json?.status?.conditions ?? []).some((c) => c.type === "Established" && c.status === "True");
        });
    }
    for (const ns of [MANUAL.esoNs, MANUAL.appNs, "vault"]) await k("POST", "/api/v1/namespaces", { metadata: { name: ns } });
    await k("POST", "/api/v1/namespaces/vault/serviceaccounts", { metadata: { name: "vault" } });
    await k("POST", `/api/v1/namespaces/${MANUAL.appNs}/serviceaccounts`, { metadata: { name: "vault-secret-reader" } });
    await k("POST", `/api/v1/namespaces/${MANUAL.esoNs}/serviceaccounts`, { metadata: { name: "external-secrets" } });
    const crb = (name, role, ns, sa) => ({
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
        subjects: [{ kind: "ServiceAccount", name: sa, namespace: ns }],
    });
    await k("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", crb("vault-vault-tokenreview", "system:auth-delegator", "vault", "vault"));
    const [role, binding] = renderChartControllerRbac(toolPath("external-secrets-chart"), { namespace: MANUAL.esoNs, serviceAccount: "external-secrets" });
    await k("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", role);
    await k("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding);

    // OpenBao: init (3 shares, threshold 2), unseal, configure.
    const init = (await b("POST", "sys/init", { secret_shares: 3, secret_threshold: 2 })).json;
    for (const key of init.keys_base64.slice(0, 2)) await b("POST", "sys/unseal", { key });
    const token = init.root_token;
    await waitFor("OpenBao active", async () => (await bao(dir, "GET", "sys/health")).status === 200, { timeoutMs: 30000, intervalMs: 200 });
    await b("POST", "sys/auth/kubernetes", { type: "kubernetes" }, token);
    // As components/vault/tokenReviewer: a service-account-token Secret the token controller fills.
    await k("POST", "/api/v1/namespaces/vault/secrets", {
        metadata: { name: "vault-token-reviewer", annotations: { "kubernetes.io/service-account.name": "vault" } },
        type: "kubernetes.io/service-account-token",
    });
    const reviewer = await waitFor("the reviewer token (kube-controller-manager token controller)", async () => {
        const r = await kube.get("/api/v1/namespaces/vault/secrets/vault-token-reviewer");
        return r.json?.data?.token ? Buffer.from(r.json.data.token, "base64").toString("utf8") : undefined;
    });
    await b("POST", "auth/kubernetes/config", {
        kubernetes_host: `https://127.0.0.1:${st.apiPort}`,
        kubernetes_ca_cert: fs.readFileSync(path.join(paths(dir).certs, "ca.crt"), "utf8"),
        token_reviewer_jwt: reviewer,
    }, token);
    const kvPaths = [...MANUAL.secrets.map((s) => s.path), "gitlab/credentials"];
    const hcl = kvPaths.map((p) => `path "kv/data/${p}" {\n  capabilities = ["read"]\n}\npath "kv/metadata/${p}" {\n  capabilities = ["read"]\n}\n`).join("");
    await b("POST", "sys/policies/acl/external-secrets", { policy: hcl }, token);
    await b("POST", "auth/kubernetes/role/external-secrets", {
        bound_service_account_names: ["vault-secret-reader"],
        bound_service_account_namespaces: [MANUAL.appNs],
        token_policies: ["external-secrets"],
        audience: "vault",
        token_ttl: 900,
        token_max_ttl: 3600,
    }, token);
    await b("POST", "sys/mounts/kv", { type: "kv", options: { version: "2" } }, token);
    // A new KV v2 mount upgrades its storage first and answers 400 ("upgrading") until done.
    await waitFor("KV v2 mount ready", async () => {
        const r = await bao(dir, "GET", "kv/metadata/?list=true", undefined, token);
        return !(r.status === 400 && /upgrad/i.test(JSON.stringify(r.json?.errors ?? "")));
    }, { timeoutMs: 30000, intervalMs: 200 });
    for (const s of MANUAL.secrets) {
        await b("POST", `kv/data/${s.path}`, { data: Object.fromEntries(s.keys.map((key) => [key, randomBytes(16).toString("hex")])) }, token);
    }
    await b("POST", "kv/data/gitlab/credentials", { data: { username: "e2e-robot", password: registryPassword } }, token);

    // ESO objects, as components/externalSecrets renders them.
    const api = `/apis/external-secrets.io/v1/namespaces/${MANUAL.appNs}`;
    await k("POST", `${api}/secretstores`, {
        apiVersion: "external-secrets.io/v1",
        kind: "SecretStore",
        metadata: { name: "vault" },
        spec: { provider: { vault: { server: `http://127.0.0.1:${st.baoPort}`, path: "kv", version: "v2", auth: { kubernetes: { mountPath: "kubernetes", role: "external-secrets", serviceAccountRef: { name: "vault-secret-reader", audiences: ["vault"] } } } } } },
    });
    const es = (name, spec) => k("POST", `${api}/externalsecrets`, { apiVersion: "external-secrets.io/v1", kind: "ExternalSecret", metadata: { name }, spec });
    for (const s of MANUAL.secrets) {
        await es(s.name, {
            refreshInterval: MANUAL.refreshInterval,
            secretStoreRef: { name: "vault", kind: "SecretStore" },
            target: { name: s.name, creationPolicy: "Owner" },
            data: s.keys.map((key) => ({ secretKey: key, remoteRef: { key: s.path, property: key } })),
        });
    }
    const auth = '{{ printf "%s:%s" .username .password | b64enc }}';
    await es("gitlab-registry-secret", {
        refreshInterval: MANUAL.refreshInterval,
        secretStoreRef: { name: "vault", kind: "SecretStore" },
        target: { name: "gitlab-registry-secret", creationPolicy: "Owner", template: { type: "kubernetes.io/dockerconfigjson", engineVersion: "v2", data: { ".dockerconfigjson": `{"auths":{"registry.example.test":{"auth":"${auth}"}}}` } } },
        data: [
            { secretKey: "username", remoteRef: { key: "gitlab/credentials", property: "username" } },
            { secretKey: "password", remoteRef: { key: "gitlab/credentials", property: "password" } },
        ],
    });
    return { rootToken: token, unsealKeys: init.keys_base64 };
}

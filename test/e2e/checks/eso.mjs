// external-secrets as the program installs it by default: the admission webhook, the cert
// controller that feeds it, and first `pulumi up`s that never race the webhook.
import { cfgArgs, waitFor } from "../../../scripts/local/lib.mjs";
import { assert, eq } from "../lib/assertions.mjs";
import { Skip } from "../lib/runner.mjs";
import { secs } from "../lib/clusterTest.mjs";
import { APP_NS, ESO_NS } from "../lib/stack.mjs";

/** The webhook configurations the chart installs, each with the webhooks the cert controller fills. */
const WEBHOOK_CONFIGS = ["secretstore-validate", "externalsecret-validate"];

const needsWebhook = (t) => {
    if (t.eso && !t.eso.programDefaults) throw new Skip(`the webhook is off in the fallback: ${t.eso.fallback}`);
};

export const webhookDenies = (r, t, n) =>
    r.check(n, "the ESO webhook denies a server-side create of an invalid ExternalSecret (deletionPolicy Delete on a secret the controller does not own)", async () => {
        needsWebhook(t);
        const name = "e2e-invalid-by-webhook";
        // Valid for the CRD schema, invalid for ESO's own validator: only the webhook can refuse it.
        const es = {
            apiVersion: "external-secrets.io/v1",
            kind: "ExternalSecret",
            metadata: { name, namespace: APP_NS },
            spec: {
                secretStoreRef: { name: "vault-backend", kind: "SecretStore" },
                target: { name, creationPolicy: "Merge", deletionPolicy: "Delete" },
                data: [{ secretKey: "password", remoteRef: { key: "path_to_secret", property: "password" } }],
            },
        };
        const res = await t.kube().request("POST", `/apis/external-secrets.io/v1/namespaces/${APP_NS}/externalsecrets`, es);
        if (res.status === 201) {
            await t.kube().request("DELETE", `/apis/external-secrets.io/v1/namespaces/${APP_NS}/externalsecrets/${name}`);
            throw new Error("the invalid ExternalSecret was created: no webhook refused it");
        }
        const msg = res.json?.message ?? "";
        assert(res.status === 400 || res.status === 403 || res.status === 422, `create answered HTTP ${res.status}: ${msg}`);
        assert(/admission webhook "validate\.externalsecret\.external-secrets\.io" denied the request/.test(msg), `the refusal is not the ESO webhook's: ${msg}`);
        assert(/deletionPolicy=Delete must not be used/.test(msg), `the webhook refused for another reason: ${msg}`);
        // The same object made valid passes the webhook (a server-side dry run: nothing is stored).
        const ok = { ...es, spec: { ...es.spec, target: { name, creationPolicy: "Owner", deletionPolicy: "Delete" } } };
        const dry = await t.kube().request("POST", `/apis/external-secrets.io/v1/namespaces/${APP_NS}/externalsecrets?dryRun=All`, ok);
        eq(dry.status, 201, `dry-run create of the corrected ExternalSecret (${dry.json?.message ?? ""})`);
        return [`HTTP ${res.status}: ${msg.slice(0, 220)}`, "the corrected object passes the webhook (dry run 201)"];
    });

export const caInjected = (r, t, n) =>
    r.check(n, "the cert controller injected its CA into every ESO webhook configuration; it is the CA of the webhook's serving certificate Secret", async () => {
        needsWebhook(t);
        const secretName = "external-secrets-webhook";
        const sec = await t.kube().get(`/api/v1/namespaces/${ESO_NS}/secrets/${secretName}`);
        eq(sec.status, 200, `Secret ${ESO_NS}/${secretName}`);
        const ca = sec.json.data?.["ca.crt"];
        assert(ca && Buffer.from(ca, "base64").toString().includes("BEGIN CERTIFICATE"), `${secretName} has no ca.crt`);
        assert(sec.json.data?.["tls.crt"] && sec.json.data?.["tls.key"], `${secretName} has no serving certificate`);
        const notes = [];
        for (const cfg of WEBHOOK_CONFIGS) {
            const vwc = await t.kube().get(`/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${cfg}`);
            eq(vwc.status, 200, `ValidatingWebhookConfiguration ${cfg}`);
            for (const w of vwc.json.webhooks) {
                assert(w.clientConfig.caBundle === ca, `${cfg}/${w.name}: caBundle ${w.clientConfig.caBundle ? "differs from" : "missing, not"} the webhook Secret's ca.crt`);
                eq(w.failurePolicy, "Fail", `${cfg}/${w.name} failurePolicy`);
            }
            notes.push(`${cfg}: ${vwc.json.webhooks.length} webhooks`);
        }
        // The chart keeps CRD conversion off (crds.conversion.enabled false): no CRD may point at the webhook.
        const crds = (await t.kube().get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")).json.items.filter((c) => c.spec.group.endsWith("external-secrets.io"));
        const converting = crds.filter((c) => c.spec.conversion?.strategy === "Webhook");
        eq(converting.map((c) => c.metadata.name), [], "ESO CRDs with a conversion webhook");
        return `${notes.join("; ")}: caBundle = ${secretName}/ca.crt; ${crds.length} ESO CRDs, none converting through the webhook`;
    });

/**
 * `count` first `pulumi up`s, each on a fresh cluster (`fresh(i)` brings one up and returns its
 * ClusterTest; `down(i)` tears it down, even after a failed bring-up, and returns the host
 * differences): none may fail on the webhook, so the program's ordering (SecretStore after the
 * awaited chart) is proven, not lucky.
 */
export const firstUpsNeverRaceWebhook = (r, n, { count, fresh, down }) =>
    r.check(n, `${count} consecutive first pulumi ups on fresh clusters never fail on the ESO webhook`, async () => {
        const runs = [];
        for (let i = 1; i <= count; i++) {
            try {
                const t = await fresh(i);
                needsWebhook(t);
                const up = await t.P(["up", "--yes", "--skip-preview", ...cfgArgs(t.dir)]);
                const out = up.stdout + up.stderr;
                assert(!/failed calling webhook|no endpoints available for service/i.test(out), `run ${i}: pulumi up hit the webhook before it served:\n${out.slice(-1500)}`);
                assert(up.code === 0, `run ${i}: pulumi up failed (exit ${up.code}):\n${out.slice(-1500)}`);
                t.upDone = true;
                await waitFor(`run ${i}: every ExternalSecret synced`, async () => t.assertSynced().then(() => true, () => false), { timeoutMs: 120000, intervalMs: 1000 });
                runs.push(`run ${i}: up ${secs(up.ms)}, synced`);
            } finally {
                eq(await down(i), [], `run ${i}: host differences after --down`);
            }
        }
        return runs;
    });

#!/usr/bin/env node
// `npm run preview:charts -- --vault-chart <dir> --eso-chart <dir> [--eso-crds <bundle.yaml>]`:
// a real `pulumi preview` of the dev and prod stacks (chart mode) against a loopback control plane,
// with both charts given as local chart directories, so a chart upgrade is proven before users
// get it: every object renders and the API server accepts each create in its dry run.
// The charts are whatever you point at (a released chart, or a checkout of the chart's source);
// nothing is downloaded. `--eso-crds` is for a source checkout, whose chart carries no CRDs: they
// are added as templates/crds/ the way the release does (scripts/local/lib/eso.mjs).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    Kube, allocateState, initStackOutsideCheckout, log, makePki, paths, prepareEsoChart, pulumi, pulumiEnv, pulumiOk, repoRoot, startControlPlane, stopAll,
} from "./local/lib.mjs";
import { execFileSync } from "node:child_process";
import yaml from "js-yaml";

const argv = process.argv.slice(2);
const arg = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? path.resolve(argv[i + 1]) : undefined;
};
const vaultChart = arg("--vault-chart");
const esoSrc = arg("--eso-chart");
const esoCrds = arg("--eso-crds");
if (!vaultChart || !esoSrc) {
    console.error("usage: node scripts/preview-charts.mjs --vault-chart <dir> --eso-chart <dir> [--eso-crds <bundle.yaml>] [--stacks dev,prod]");
    process.exit(2);
}
const stacks = (argv.includes("--stacks") ? argv[argv.indexOf("--stacks") + 1] : "dev,prod").split(",");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-eso-charts-"));
const chartVersion = (d) => (fs.readFileSync(path.join(d, "Chart.yaml"), "utf8").match(/^version:\s*"?([^"\s]+)/m) ?? [])[1];
const results = [];
let failed = 0;

try {
    const st = await allocateState(dir);
    makePki(dir);
    // The API server's audit log shows every dry-run request and its answer.
    const auditLog = path.join(dir, "apiserver-audit.log");
    fs.writeFileSync(path.join(dir, "audit-policy.yaml"), "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  verbs: [create, patch, update]\n");
    await startControlPlane(dir, st, { apiserverArgs: ["--audit-policy-file", path.join(dir, "audit-policy.yaml"), "--audit-log-path", auditLog, "--audit-log-format", "json"] });
    const auditEvents = () =>
        (fs.existsSync(auditLog) ? fs.readFileSync(auditLog, "utf8").split("\n") : []).filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.stage === "ResponseComplete");
    let esoChart = esoSrc;
    if (esoCrds) {
        process.env.EXTERNAL_SECRETS_CHART_BIN = esoSrc;
        process.env.EXTERNAL_SECRETS_CRDS_BIN = esoCrds;
        esoChart = prepareEsoChart(dir);
    }
    log(`charts: vault ${chartVersion(vaultChart)} (${vaultChart}), external-secrets ${chartVersion(esoChart)} (${esoChart})`);
    const env = pulumiEnv(dir);
    fs.mkdirSync(paths(dir).state, { recursive: true });
    const kube = Kube.admin(dir);
    for (const stack of stacks) {
        const cfgFile = path.join(dir, `Pulumi.${stack}.yaml`);
        fs.copyFileSync(path.join(repoRoot, `Pulumi.${stack}.yaml`), cfgFile);
        const args = ["--stack", stack, "--config-file", cfgFile];
        await initStackOutsideCheckout(dir, { stack, cfgFile, env });
        const set = (k, v, secret = false) => pulumiOk(dir, ["config", "set", ...args, secret ? "--secret" : "--plaintext", k, "--", v], { env });
        await set("registryPassword", "preview-only", true);
        await set("vaultChartPath", vaultChart);
        await set("esoChartPath", esoChart);
        await set("kubernetes:kubeconfig", paths(dir).kubeconfig);
        // The provider dry-runs each create on the API server only where its namespace exists (else it
        // falls back to client-side): create the namespaces first so every namespaced object is dry-run.
        const tenants = (yaml.load(fs.readFileSync(cfgFile, "utf8"))?.config?.["vault-eso-platform:tenants"] ?? []).map((t) => t.namespace ?? t.name);
        for (const ns of ["vault", "external-secrets", "demo-external-secrets", ...tenants]) {
            await kube.request("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
        }
        if (stack === "prod") {
            // Prod verifies Vault's TLS with a CA file and expects its namespace (with the TLS Secret) to exist.
            execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=preview-ca", "-keyout", path.join(dir, "ca.key"), "-out", path.join(dir, "vault-ca.pem")], { stdio: "ignore" });
            await set("vaultCaCertFile", path.join(dir, "vault-ca.pem"));
        }
        const t0 = Date.now() - 1000;
        const r = await pulumi(dir, ["preview", "--json", ...args], { env });
        if (process.env.KEEP === "1") fs.writeFileSync(path.join(dir, `preview-${stack}.json`), r.stdout);
        let j;
        try {
            j = JSON.parse(r.stdout);
        } catch {
            j = { steps: [], diagnostics: [{ severity: "error", message: (r.stdout + r.stderr).slice(-2000) }] };
        }
        const steps = j.steps ?? [];
        const errors = (j.diagnostics ?? []).filter((d) => d.severity === "error");
        const childrenOf = (name) => steps.filter((s) => (s.newState?.parent ?? "").endsWith(`::${name}`)).length;
        // Every dry-run request the provider sent the API server during this preview, and its answer.
        const dry = auditEvents().filter((e) => /[?&]dryRun=All/.test(e.requestURI) && Date.parse(e.requestReceivedTimestamp) >= t0);
        const accepted = dry.filter((e) => e.responseStatus?.code < 300);
        // The namespaces this script created itself answer 409 AlreadyExists, as expected.
        const preCreated = (e) => e.objectRef?.resource === "namespaces" && e.responseStatus?.code === 409;
        const rejected = dry.filter((e) => !(e.responseStatus?.code < 300) && !preCreated(e)).map((e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name}: ${e.responseStatus?.code} ${e.responseStatus?.reason ?? ""}`);
        const k8sCreates = steps.filter((s) => s.op === "create" && /^kubernetes:/.test(s.newState?.type ?? "") && !/helm\.sh/.test(s.newState?.type ?? ""));
        const res = {
            stack,
            exit: r.code,
            creates: steps.filter((s) => s.op === "create").length,
            vaultChartObjects: childrenOf("platform-chart"),
            esoChartObjects: childrenOf("platform-eso-chart"),
            kubernetesCreates: k8sCreates.length,
            dryRunAccepted: accepted.length,
            // Creates whose inputs are not known in a preview (e.g. from another resource's outputs) are not dry-run.
            notDryRun: k8sCreates.length - accepted.length - dry.filter(preCreated).length,
            dryRunRejected: rejected,
            errors: errors.map((d) => d.message.split("\n")[0].slice(0, 300)),
        };
        results.push(res);
        if (r.code !== 0 || errors.length || rejected.length || accepted.length === 0) failed++;
        log(`${stack}: exit ${res.exit}, ${res.creates} creates, vault chart ${res.vaultChartObjects} objects, external-secrets chart ${res.esoChartObjects} objects; ${res.kubernetesCreates} Kubernetes creates, ${res.dryRunAccepted} accepted in the API server's dry run, ${res.dryRunRejected.length} rejected, ${res.notDryRun} not dry-run (inputs unknown in a preview or namespace pre-created)${res.dryRunRejected.length ? ` (${res.dryRunRejected.join("; ")})` : ""}${errors.length ? `, ${errors.length} errors: ${res.errors.join(" | ")}` : ""}`);
    }
} catch (e) {
    console.error(`preview-charts failed: ${e.message}`);
    failed++;
} finally {
    await stopAll(dir);
    if (process.env.KEEP !== "1") fs.rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(results, null, 2));
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

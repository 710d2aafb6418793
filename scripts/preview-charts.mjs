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
import { Kube, allocateState, log, makePki, paths, prepareEsoChart, pulumi, pulumiEnv, pulumiOk, repoRoot, startControlPlane, stopAll } from "./local/lib.mjs";
import { execFileSync } from "node:child_process";

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
    await startControlPlane(dir, st);
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
        await pulumiOk(dir, ["stack", "init", stack, "--secrets-provider", "passphrase"], { env });
        const set = (k, v, secret = false) => pulumiOk(dir, ["config", "set", ...args, secret ? "--secret" : "--plaintext", k, "--", v], { env });
        await set("registryPassword", "preview-only", true);
        await set("vaultChartPath", vaultChart);
        await set("esoChartPath", esoChart);
        await set("kubernetes:kubeconfig", paths(dir).kubeconfig);
        if (stack === "prod") {
            // Prod verifies Vault's TLS with a CA file and expects its namespace (with the TLS Secret) to exist.
            execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=preview-ca", "-keyout", path.join(dir, "ca.key"), "-out", path.join(dir, "vault-ca.pem")], { stdio: "ignore" });
            await set("vaultCaCertFile", path.join(dir, "vault-ca.pem"));
            await kube.request("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "vault" } });
        }
        const r = await pulumi(dir, ["preview", "--json", ...args], { env });
        let j;
        try {
            j = JSON.parse(r.stdout);
        } catch {
            j = { steps: [], diagnostics: [{ severity: "error", message: (r.stdout + r.stderr).slice(-2000) }] };
        }
        const steps = j.steps ?? [];
        const errors = (j.diagnostics ?? []).filter((d) => d.severity === "error");
        const childrenOf = (name) => steps.filter((s) => (s.newState?.parent ?? "").endsWith(`::${name}`)).length;
        const res = {
            stack,
            exit: r.code,
            creates: steps.filter((s) => s.op === "create").length,
            vaultChartObjects: childrenOf("platform-chart"),
            esoChartObjects: childrenOf("platform-eso-chart"),
            errors: errors.map((d) => d.message.split("\n")[0].slice(0, 300)),
        };
        results.push(res);
        if (r.code !== 0 || errors.length) failed++;
        log(`${stack}: exit ${res.exit}, ${res.creates} creates, vault chart ${res.vaultChartObjects} objects, external-secrets chart ${res.esoChartObjects} objects${errors.length ? `, ${errors.length} errors: ${res.errors.join(" | ")}` : ""}`);
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

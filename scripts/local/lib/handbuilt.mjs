// Pieces no registry serves here, built or unpacked by hand outside the checkout (tools/README.md
// "Hand-built pieces") and only discovered: the external-secrets release the program installs by
// default (controller, chart, CRD bundle) and the openbao and vault-helm charts. Each finder says
// what it found, or what is missing and what the cluster tier uses instead.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot, toolPath } from "./base.mjs";

export const cacheRoot = () => path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "vault-eso-platform");

/** A program default from components/config/defaults.ts (e.g. esoChartVersion), so versions have one source. */
export function programDefault(key) {
    const text = fs.readFileSync(path.join(repoRoot, "components", "config", "defaults.ts"), "utf8");
    const m = text.match(new RegExp(`\\b${key}:\\s*"([^"]+)"`));
    if (!m) throw new Error(`components/config/defaults.ts has no string default ${key}`);
    return m[1];
}

/** `version:` of a chart directory's Chart.yaml, or undefined. */
export function chartVersion(dir) {
    const file = path.join(dir, "Chart.yaml");
    if (!fs.existsSync(file)) return undefined;
    return fs.readFileSync(file, "utf8").match(/^version:\s*"?([^"\n]+)"?/m)?.[1];
}

/** The chart's default image repository (values.yaml `image.repository`) and appVersion. */
export function chartImage(dir) {
    const chart = fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8");
    const values = fs.readFileSync(path.join(dir, "values.yaml"), "utf8");
    const appVersion = chart.match(/^appVersion:\s*"?([^"\n]+)"?/m)[1];
    const repository = values.match(/^image:\s*\n(?:\s+#.*\n|\s+\w+:.*\n)*?\s+repository:\s*"?([^"\n]+)"?/m)?.[1];
    if (!repository) throw new Error(`${dir}/values.yaml: no image.repository`);
    return { repository, appVersion };
}

/**
 * external-secrets for the cluster tier. The program's default release (esoChartVersion, with the
 * webhook and cert controller) where it was built by hand:
 *   <cache>/tools/handbuilt/external-secrets-v<version>/external-secrets   the controller (all providers)
 *   <cache>/charts/external-secrets/                                         its chart (helm-chart-<version>)
 *   <cache>/charts/external-secrets-crds/bundle.yaml                         its CRD bundle
 * (ESO_BIN, ESO_CHART_DIR, ESO_CRDS override them). Else the 0.16.2 controller, chart and CRDs the
 * tools runner builds from the Go module, with `fallback` saying why.
 */
export function esoRelease() {
    const version = programDefault("esoChartVersion");
    const bin = process.env.ESO_BIN || path.join(cacheRoot(), "tools", "handbuilt", `external-secrets-v${version}`, "external-secrets");
    const chart = process.env.ESO_CHART_DIR || path.join(cacheRoot(), "charts", "external-secrets");
    const crds = process.env.ESO_CRDS || path.join(cacheRoot(), "charts", "external-secrets-crds", "bundle.yaml");
    const missing = [];
    if (!fs.existsSync(bin)) missing.push(`controller ${bin}`);
    const cv = chartVersion(chart);
    if (cv !== version) missing.push(cv ? `chart ${version} (${chart} is ${cv})` : `chart ${chart}/Chart.yaml`);
    if (!fs.existsSync(crds)) missing.push(`CRD bundle ${crds}`);
    if (missing.length === 0) return { version, bin, chart, crds, programDefaults: true };
    const fallbackBin = toolPath("external-secrets");
    const fallbackVersion = execFileSync(fallbackBin, ["--version"], { encoding: "utf8" }).match(/v(\d+\.\d+\.\d+)/)?.[1] ?? "unknown";
    return {
        version: fallbackVersion,
        bin: fallbackBin,
        chart: toolPath("external-secrets-chart"),
        crds: toolPath("external-secrets-crds"),
        programDefaults: false,
        fallback: `external-secrets ${fallbackVersion} with its webhook and cert controller off, not the program's ${version} defaults: missing ${missing.join(", ")} (tools/README.md "Hand-built pieces")`,
    };
}

/**
 * A chart directory: <cache>/charts/<name> (or `envDir`), or undefined. The vault-helm chart comes
 * from hashicorp/vault-helm, the openbao chart from openbao/openbao-helm; neither is in git.
 */
export function findChart(name, envDir) {
    const dir = envDir || path.join(cacheRoot(), "charts", name);
    return fs.existsSync(path.join(dir, "Chart.yaml")) ? path.resolve(dir) : undefined;
}

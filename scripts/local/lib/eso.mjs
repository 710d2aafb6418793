// The external-secrets chart prepared for an offline install, and the host-process controller supervisor.
import * as fs from "node:fs";
import * as path from "node:path";
import { paths, repoRoot, toolPath } from "./base.mjs";
import { startDaemon } from "./process.mjs";


/**
 * The chart as the module ships it cannot be installed offline (see tools/external-secrets/NOTES.md):
 * it carries no CRDs and declares an OCI dependency (bitwarden-sdk-server, off by default). Prepare
 * what the release process would publish: a copy without `dependencies:` (nor charts/) and with the CRD bundle as templates/crds/,
 * gated by installCRDs (the program sets installCRDs: true).
 */
export function prepareEsoChart(dir, { chart: src = toolPath("external-secrets-chart"), crds = toolPath("external-secrets-crds") } = {}) {
    const dst = paths(dir).esoChart;
    fs.rmSync(dst, { recursive: true, force: true });
    fs.cpSync(src, dst, { recursive: true });
    const chartYaml = path.join(dst, "Chart.yaml");
    const text = fs.readFileSync(chartYaml, "utf8");
    // Drop the `dependencies:` block (it runs to the next top-level key or EOF).
    const lines = text.split("\n");
    const out = [];
    let skipping = false;
    for (const line of lines) {
        if (/^dependencies:/.test(line)) {
            skipping = true;
            continue;
        }
        if (skipping && /^\S/.test(line)) skipping = false;
        if (!skipping) out.push(line);
    }
    fs.writeFileSync(chartYaml, out.join("\n").trimEnd() + "\n");
    fs.rmSync(path.join(dst, "Chart.lock"), { force: true });
    // Vendored subcharts of the dropped dependencies (bitwarden-sdk-server, off by default) would
    // render unconditionally without their `condition`: the chart installs without them.
    fs.rmSync(path.join(dst, "charts"), { recursive: true, force: true });
    const bundleFile = fs.statSync(crds).isDirectory() ? path.join(crds, "bundle.yaml") : crds;
    const bundle = fs.readFileSync(bundleFile, "utf8");
    if (bundle.includes("{{")) throw new Error(`${bundleFile} contains template braces; cannot embed it in the chart as is`);
    fs.mkdirSync(path.join(dst, "templates", "crds"), { recursive: true });
    fs.writeFileSync(path.join(dst, "templates", "crds", "bundle.yaml"), `{{- if .Values.installCRDs }}\n${bundle}\n{{- end }}\n`);
    return dst;
}


/**
 * The flags of the chart's controller Deployment that change how it syncs (`esoConcurrent`,
 * `esoVaultTokenCache`), for the host-run controller to take as its pod would. `newCacheFlag`: the
 * binary knows `--enable-vault-token-cache` (ESO >= 1.0); older ones only the `--experimental-` one.
 */
export function esoControllerFlags(deployment, { newCacheFlag }) {
    const containers = deployment?.spec?.template?.spec?.containers ?? [];
    const controller = containers.find((c) => c.name === "external-secrets") ?? containers[0];
    const args = controller?.args ?? [];
    const flags = [];
    args.forEach((a, i) => {
        const m = /^--(concurrent|enable-vault-token-cache|vault-token-cache-size)(=|$)/.exec(a);
        if (!m) return;
        // `--concurrent 4` (two args) as well as `--concurrent=4`; a bare boolean stays bare.
        const next = args[i + 1];
        flags.push(m[2] === "" && m[1] !== "enable-vault-token-cache" && next !== undefined && !next.startsWith("-") ? `${a}=${next}` : a);
    });
    return newCacheFlag ? flags : flags.map((a) => a.replace(/^--(enable-vault-token-cache|vault-token-cache-size)/, "--experimental-$1"));
}

/** Starts the ESO supervisor (detached): waits for the chart's SA, mints a token, runs the controller. */
export function startEsoSupervisor(dir) {
    return startDaemon(dir, "eso-supervisor", process.execPath, [path.join(repoRoot, "scripts", "local", "eso-supervisor.mjs"), dir], { cwd: repoRoot });
}


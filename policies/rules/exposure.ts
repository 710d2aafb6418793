// Rule 6: Vault (or OpenBao) is only reachable from outside the cluster over TLS.
import { PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { renderedVaultServers } from "../lib/rendered";
import { UNKNOWN, config, get, list, message, num, show, str } from "../lib/props";
import { CHART_V4_TYPE, RELEASE_V3_TYPE } from "./charts";

export const INGRESS_TYPE = "kubernetes:networking.k8s.io/v1:Ingress";
export const SERVICE_TYPE = "kubernetes:core/v1:Service";
export const VAULT_PORT = 8200;

export interface VaultChartConfig {
    vaultChartPattern: string;
}

export const vaultChartDefaults: VaultChartConfig = { vaultChartPattern: "(^|/)(vault|openbao)$" };

export const vaultChartSchema: PolicyConfigSchema["properties"] = {
    vaultChartPattern: {
        type: "string",
        default: vaultChartDefaults.vaultChartPattern,
        description: "Regex over a chart's `chart` input that identifies the Vault/OpenBao chart.",
    },
};

/** True for a Helm chart/release whose chart name is Vault's (or OpenBao's). */
export function isVaultChart(type: string, props: unknown, pattern: string): boolean {
    if (type !== CHART_V4_TYPE && type !== RELEASE_V3_TYPE) {
        return false;
    }
    const chart = str(get(props, "chart"));
    return chart !== undefined && new RegExp(pattern).test(chart.replace(/\/+$/, ""));
}

const exposedTypes = ["LoadBalancer", "NodePort"];

/** Findings for the chart values; each is [problem, fix]. */
export function vaultValuesExposure(values: unknown): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const exposed: string[] = [];
    const serverType = get(values, "server", "service", "type");
    if (typeof serverType === "string" && exposedTypes.includes(serverType)) {
        exposed.push(`server.service.type "${serverType}"`);
    }
    // The chart renders the UI Service only with ui.enabled true (its default is false).
    const uiType = get(values, "ui", "serviceType");
    if (get(values, "ui", "enabled") === true && typeof uiType === "string" && exposedTypes.includes(uiType)) {
        exposed.push(`ui.serviceType "${uiType}"`);
    }
    const ingress = get(values, "server", "ingress", "enabled") === true;
    if (ingress) {
        exposed.push("server.ingress.enabled true");
    }
    const route = get(values, "server", "route", "enabled") === true;
    if (route) {
        exposed.push("server.route.enabled true");
    }
    // Gateway API HTTPRoute (vault-helm 0.34+): traffic reaches Vault from a Gateway outside the pod network.
    const httproute = get(values, "server", "httproute", "enabled") === true;
    if (httproute) {
        exposed.push("server.httproute.enabled true");
    }
    if (exposed.length === 0) {
        return out;
    }
    const tlsDisable = get(values, "global", "tlsDisable");
    if (tlsDisable !== false && tlsDisable !== UNKNOWN) {
        out.push([
            `${exposed.join(" and ")} expose Vault outside the cluster while global.tlsDisable is ${show(tlsDisable)} (the chart default is true)`,
            "set global.tlsDisable to false with a TLS listener (server.extraVolumes + tls_cert_file/tls_key_file), or keep the service ClusterIP",
        ]);
    }
    if (ingress) {
        const tls = get(values, "server", "ingress", "tls");
        if (tls !== UNKNOWN && (list(tls) ?? []).length === 0) {
            out.push([
                `server.ingress.enabled is true but server.ingress.tls is ${show(tls)}`,
                "add server.ingress.tls entries (hosts + secretName) so the ingress terminates TLS",
            ]);
        }
    }
    return out;
}

export const vaultChartExposure: ResourceValidationPolicy = {
    name: "vault-exposure-requires-tls",
    description:
        "Vault exposed through a LoadBalancer/NodePort service, an ingress, an OpenShift route or a Gateway API HTTPRoute must serve TLS (chart values), and any " +
        "Ingress in front of port 8200 must terminate TLS.",
    configSchema: { properties: { ...vaultChartSchema } },
    validateResource: (args, reportViolation) => {
        const cfg = config(vaultChartDefaults, args.getConfig());
        if (isVaultChart(args.type, args.props, cfg.vaultChartPattern)) {
            const values = get(args.props, "values");
            for (const [problem, fix] of vaultValuesExposure(values)) {
                reportViolation(message(args.type, args.name, problem, fix));
            }
        } else if (args.type === INGRESS_TYPE) {
            checkIngress(args.type, args.name, args.props, reportViolation);
        }
    },
};

function ingressBackendPorts(props: unknown): unknown[] {
    const backends: unknown[] = [get(props, "spec", "defaultBackend")];
    for (const rule of list(get(props, "spec", "rules")) ?? []) {
        for (const path of list(get(rule, "http", "paths")) ?? []) {
            backends.push(get(path, "backend"));
        }
    }
    return backends.map((b) => get(b, "service", "port", "number"));
}

function checkIngress(type: string, name: string, props: unknown, report: (m: string) => void): void {
    if (!ingressBackendPorts(props).some((p) => num(p) === VAULT_PORT)) {
        return;
    }
    const tls = get(props, "spec", "tls");
    if (tls === UNKNOWN || (list(tls) ?? []).length > 0) {
        return;
    }
    report(message(type, name, `routes to port ${VAULT_PORT} (Vault) without spec.tls (${show(tls)})`, "add spec.tls with the host and a certificate secretName"));
}

/** Annotation by which a Service declares that TLS passes through it (or ends at it). */
export const TLS_ANNOTATION = "vault-eso-platform/tls";

export const vaultServiceExposure: StackValidationPolicy = {
    name: "vault-service-exposure-tls",
    description:
        "A LoadBalancer or NodePort Service forwarding to Vault's port 8200 needs Vault's TLS listener in that namespace " +
        `(chart global.tlsDisable false, i.e. an https VAULT_ADDR) or the annotation ${TLS_ANNOTATION}.`,
    configSchema: { properties: { ...vaultChartSchema } },
    validateStack: (args, reportViolation) => {
        const cfg = config(vaultChartDefaults, args.getConfig());
        const tlsNamespaces = new Set<string>();
        for (const server of renderedVaultServers(args.resources)) {
            if (server.scheme === "https") {
                tlsNamespaces.add(server.namespace);
            }
        }
        for (const r of args.resources) {
            if (isVaultChart(r.type, r.props, cfg.vaultChartPattern) && get(r.props, "values", "global", "tlsDisable") === false) {
                tlsNamespaces.add(str(get(r.props, "namespace")) ?? "default");
            }
        }
        for (const r of args.resources) {
            if (r.type !== SERVICE_TYPE) {
                continue;
            }
            const serviceType = get(r.props, "spec", "type");
            if (serviceType !== "LoadBalancer" && serviceType !== "NodePort") {
                continue;
            }
            const ports = list(get(r.props, "spec", "ports")) ?? [];
            const vaultPort = ports.find((p) => num(get(p, "port")) === VAULT_PORT || num(get(p, "targetPort")) === VAULT_PORT);
            const declared = get(r.props, "metadata", "annotations", TLS_ANNOTATION);
            const namespace = str(get(r.props, "metadata", "namespace")) ?? "default";
            if (!vaultPort || declared === "passthrough" || declared === "terminated" || tlsNamespaces.has(namespace)) {
                continue;
            }
            reportViolation(
                message(
                    r.type,
                    r.name,
                    `is a ${serviceType} forwarding port ${show(get(vaultPort, "port"))} to Vault's ${VAULT_PORT} in namespace "${namespace}", where Vault serves plain HTTP`,
                    `enable Vault's TLS listener (chart global.tlsDisable: false), keep the Service ClusterIP behind a TLS Ingress, or annotate it "${TLS_ANNOTATION}: passthrough" if TLS is handled elsewhere`,
                ),
                r.urn,
            );
        }
    },
};

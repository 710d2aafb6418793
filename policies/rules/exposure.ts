// Rule 6: Vault (or OpenBao) is only reachable from outside the cluster over TLS.
import { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
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
    const uiEnabled = get(values, "ui", "enabled");
    const uiType = get(values, "ui", "serviceType");
    if (uiEnabled !== false && typeof uiType === "string" && exposedTypes.includes(uiType)) {
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
        "Vault exposed through a LoadBalancer/NodePort service or an ingress must serve TLS; standalone Ingresses and " +
        "LoadBalancer Services in front of port 8200 must terminate TLS.",
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
        } else if (args.type === SERVICE_TYPE) {
            checkService(args.type, args.name, args.props, reportViolation);
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

function checkService(type: string, name: string, props: unknown, report: (m: string) => void): void {
    const serviceType = get(props, "spec", "type");
    if (serviceType !== "LoadBalancer") {
        return;
    }
    const ports = list(get(props, "spec", "ports")) ?? [];
    const vaultPort = ports.find((p) => num(get(p, "port")) === VAULT_PORT || num(get(p, "targetPort")) === VAULT_PORT);
    if (!vaultPort) {
        return;
    }
    // A plain L4 load balancer cannot prove TLS; it must be declared as passing TLS through.
    const annotations = get(props, "metadata", "annotations");
    const tlsAnnotation = get(annotations, "vault-eso-platform/tls");
    if (tlsAnnotation === "passthrough" || tlsAnnotation === "terminated") {
        return;
    }
    report(
        message(
            type,
            name,
            `is a LoadBalancer forwarding port ${show(get(vaultPort, "port"))} to Vault's ${VAULT_PORT} with no TLS declared`,
            'keep Vault behind a ClusterIP service and a TLS Ingress, or enable Vault\'s TLS listener and annotate the Service "vault-eso-platform/tls: passthrough"',
        ),
    );
}

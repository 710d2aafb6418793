import { vaultChartExposure, vaultServiceExposure } from "../../policies/rules/exposure";
import { esoChart, goodStack, previewStack, renderedServer, vaultChart, vaultIngress, vaultService } from "./fixtures";
import { Fixture, change, validateResource, validateStack } from "./harness";

const V = 'kubernetes:helm.sh/v4:Chart "platform-chart": ';
const noTls = (what: string, shown = "true") =>
    V +
    `${what} expose Vault outside the cluster while global.tlsDisable is ${shown} (the chart default is true). ` +
    "Fix: set global.tlsDisable to false with a TLS listener (server.extraVolumes + tls_cert_file/tls_key_file), or keep the service ClusterIP.";

describe("vault-exposure-requires-tls (chart values)", () => {
    it.each([vaultChart, esoChart, vaultIngress, vaultService])("accepts known-good $name", async (f) => {
        expect((await validateResource(vaultChartExposure, f)).violations).toEqual([]);
    });

    it("accepts a ClusterIP Vault without TLS (reached by port-forward)", async () => {
        expect((await validateResource(vaultChartExposure, change(vaultChart, "values.global.tlsDisable", true))).violations).toEqual([]);
    });

    it("accepts a LoadBalancer Vault with TLS", async () => {
        expect((await validateResource(vaultChartExposure, change(vaultChart, "values.server.service.type", "LoadBalancer"))).violations).toEqual([]);
    });

    it("flags server.service.type LoadBalancer without TLS", async () => {
        const f = change(change(vaultChart, "values.server.service.type", "LoadBalancer"), "values.global.tlsDisable", true);
        expect((await validateResource(vaultChartExposure, f)).violations).toEqual([noTls('server.service.type "LoadBalancer"')]);
    });

    it("flags ui.serviceType LoadBalancer when tlsDisable is left at the chart default", async () => {
        const f = change(change(vaultChart, "values.ui.serviceType", "LoadBalancer"), "values.global", undefined);
        expect((await validateResource(vaultChartExposure, f)).violations).toEqual([noTls('ui.serviceType "LoadBalancer"', "<unset>")]);
    });

    it.each([false, undefined])("ignores ui.serviceType when ui.enabled is %s (the chart renders no UI Service)", async (enabled) => {
        const f = change(change(change(vaultChart, "values.ui.serviceType", "LoadBalancer"), "values.ui.enabled", enabled), "values.global.tlsDisable", true);
        expect((await validateResource(vaultChartExposure, f)).violations).toEqual([]);
    });

    it("flags NodePort too", async () => {
        const f = change(change(vaultChart, "values.server.service.type", "NodePort"), "values.global.tlsDisable", true);
        expect((await validateResource(vaultChartExposure, f)).violations).toEqual([noTls('server.service.type "NodePort"')]);
    });

    it("flags an ingress without tls entries", async () => {
        const f = change(vaultChart, "values.server.ingress", { enabled: true, hosts: [{ host: "vault.example.com" }] });
        expect((await validateResource(vaultChartExposure, f)).violations).toEqual([
            V + "server.ingress.enabled is true but server.ingress.tls is <unset>. Fix: add server.ingress.tls entries (hosts + secretName) so the ingress terminates TLS.",
        ]);
    });

    it("flags an ingress without TLS anywhere (both findings)", async () => {
        const f = change(change(vaultChart, "values.server.ingress", { enabled: true, tls: [] }), "values.global.tlsDisable", true);
        expect((await validateResource(vaultChartExposure, f)).violations).toEqual([
            noTls("server.ingress.enabled true"),
            V + "server.ingress.enabled is true but server.ingress.tls is []. Fix: add server.ingress.tls entries (hosts + secretName) so the ingress terminates TLS.",
        ]);
    });

    it.each(["route", "httproute"])("flags server.%s without TLS, accepts it with a TLS listener", async (key) => {
        const exposed = change(vaultChart, `values.server.${key}`, { enabled: true, hostnames: ["vault.example.com"] });
        expect((await validateResource(vaultChartExposure, change(exposed, "values.global.tlsDisable", true))).violations).toEqual([noTls(`server.${key}.enabled true`)]);
        expect((await validateResource(vaultChartExposure, exposed)).violations).toEqual([]);
    });

    it("accepts an ingress with tls entries and a TLS listener", async () => {
        const f = change(vaultChart, "values.server.ingress", { enabled: true, tls: [{ secretName: "vault-tls", hosts: ["vault.example.com"] }] });
        expect((await validateResource(vaultChartExposure, f)).violations).toEqual([]);
    });

    it("recognises OpenBao and configured chart names", async () => {
        const exposed = change(change(vaultChart, "values.server.service.type", "LoadBalancer"), "values.global.tlsDisable", true);
        const bao = change(exposed, "chart", "openbao/openbao");
        expect((await validateResource(vaultChartExposure, bao)).violations).toEqual([noTls('server.service.type "LoadBalancer"')]);
        const custom = change(exposed, "chart", "my-vault-fork");
        expect((await validateResource(vaultChartExposure, custom)).violations).toEqual([]);
        expect((await validateResource(vaultChartExposure, custom, { config: { vaultChartPattern: "vault-fork$" } })).violations).toEqual([
            noTls('server.service.type "LoadBalancer"'),
        ]);
    });
});

describe("vault-exposure-requires-tls (standalone resources)", () => {
    it("flags an Ingress to port 8200 without tls", async () => {
        const f = change(vaultIngress, "spec.tls", undefined);
        expect((await validateResource(vaultChartExposure, f)).violations).toEqual([
            'kubernetes:networking.k8s.io/v1:Ingress "vault-ingress": routes to port 8200 (Vault) without spec.tls (<unset>). Fix: add spec.tls with the host and a certificate secretName.',
        ]);
    });

    it("flags a defaultBackend to port 8200 without tls", async () => {
        const f = change(change(vaultIngress, "spec", {}), "spec.defaultBackend", { service: { name: "vault", port: { number: 8200 } } });
        expect((await validateResource(vaultChartExposure, f)).violations).toHaveLength(1);
    });

    it("ignores an Ingress to other ports", async () => {
        const f = change(change(vaultIngress, "spec.tls", undefined), "spec.rules.0.http.paths.0.backend.service.port.number", 80);
        expect((await validateResource(vaultChartExposure, f)).violations).toEqual([]);
    });
});

const lb = change(vaultService, "spec.type", "LoadBalancer");
const plainServer = change(renderedServer, "spec.template.spec.containers.0.env.0.value", "http://127.0.0.1:8200");
const withHttpChart = (f: Fixture) => goodStack.map((g) => (g.name === vaultChart.name ? f : g));
const S = (type: string, ns = "vault") =>
    `kubernetes:core/v1:Service "vault-svc": is a ${type} forwarding port 8200 to Vault's 8200 in namespace "${ns}", where Vault serves plain HTTP. ` +
    'Fix: enable Vault\'s TLS listener (chart global.tlsDisable: false), keep the Service ClusterIP behind a TLS Ingress, or annotate it "vault-eso-platform/tls: passthrough" if TLS is handled elsewhere.';

describe("vault-service-exposure-tls", () => {
    it("accepts the known-good stacks", async () => {
        expect((await validateStack(vaultServiceExposure, goodStack)).violations).toEqual([]);
        expect((await validateStack(vaultServiceExposure, previewStack)).violations).toEqual([]);
    });

    it("accepts a LoadBalancer when the rendered server uses https", async () => {
        expect((await validateStack(vaultServiceExposure, [renderedServer, lb])).violations).toEqual([]);
    });

    it("accepts a LoadBalancer when the chart values enable TLS", async () => {
        expect((await validateStack(vaultServiceExposure, [vaultChart, lb])).violations).toEqual([]);
    });

    it("flags a LoadBalancer when the rendered server uses http", async () => {
        expect((await validateStack(vaultServiceExposure, [plainServer, lb])).violations).toEqual([S("LoadBalancer")]);
    });

    it("flags a LoadBalancer when the chart disables TLS", async () => {
        const stack = [...withHttpChart(change(vaultChart, "values.global.tlsDisable", true)), lb];
        expect((await validateStack(vaultServiceExposure, stack)).violations).toEqual([S("LoadBalancer")]);
    });

    it("flags a NodePort when nothing shows TLS", async () => {
        expect((await validateStack(vaultServiceExposure, [change(vaultService, "spec.type", "NodePort")])).violations).toEqual([S("NodePort")]);
    });

    it("flags a LoadBalancer in another namespace than the TLS server", async () => {
        const other = change(lb, "metadata.namespace", "edge");
        expect((await validateStack(vaultServiceExposure, [renderedServer, other])).violations).toEqual([S("LoadBalancer", "edge")]);
    });

    it("flags a LoadBalancer whose targetPort is 8200", async () => {
        const f = change(lb, "spec.ports", [{ port: 443, targetPort: 8200 }]);
        expect((await validateStack(vaultServiceExposure, [f])).violations).toHaveLength(1);
    });

    it.each(["passthrough", "terminated"])("accepts a LoadBalancer annotated %s", async (value) => {
        const f = change(lb, "metadata.annotations", { "vault-eso-platform/tls": value });
        expect((await validateStack(vaultServiceExposure, [plainServer, f])).violations).toEqual([]);
    });

    it("ignores LoadBalancers for other ports and ClusterIP services", async () => {
        const other = change(lb, "spec.ports", [{ port: 443, targetPort: 8443 }]);
        expect((await validateStack(vaultServiceExposure, [plainServer, other, vaultService])).violations).toEqual([]);
    });
});

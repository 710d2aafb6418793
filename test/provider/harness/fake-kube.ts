// A stand-in Kubernetes API server that implements only pod port-forward (websocket,
// v4.channel.k8s.io) and EndpointSlice listing, piping each stream to a local TCP address per pod. It lets the
// provider's real @kubernetes/client-node port-forward path run against real OpenBao servers.
import * as http from "http";
import * as net from "net";

// ws ships with @kubernetes/client-node (its websocket client); untyped here.
const { WebSocketServer } = require("ws");

export interface FakeKube {
    kubeconfig: string;
    /** Port-forward requests seen, as "<ns>/<pod>:<port>". */
    requests: string[];
    /** Point a pod name at a local address (or remove it: the pod "does not exist"). */
    pods: Map<string, { host: string; port: number }>;
    /** Service name -> ready pod names, served as EndpointSlices. */
    services: Map<string, string[]>;
    /** Pod name -> labels and phase, served as the pod list (labelSelector "k=v,..." matched exactly). */
    podMeta: Map<string, { labels: Record<string, string>; phase: string }>;
    close(): Promise<void>;
}

export async function startFakeKube(namespace: string): Promise<FakeKube> {
    const pods = new Map<string, { host: string; port: number }>();
    const requests: string[] = [];
    const services = new Map<string, string[]>();
    const podMeta = new Map<string, { labels: Record<string, string>; phase: string }>();
    const wss = new WebSocketServer({ noServer: true, handleProtocols: (p: Set<string>) => (p.has("v4.channel.k8s.io") ? "v4.channel.k8s.io" : false) });
    const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://x");
        const sel = /^kubernetes\.io\/service-name=(.+)$/.exec(url.searchParams.get("labelSelector") ?? "");
        if (url.pathname === `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices` && sel) {
            const endpoints = (services.get(sel[1]) ?? []).map((name, n) => ({
                addresses: [`10.0.0.${n + 1}`],
                conditions: { ready: true },
                targetRef: { kind: "Pod", name, namespace },
            }));
            const items = [{ addressType: "IPv4", metadata: { name: `${sel[1]}-x`, namespace }, endpoints }];
            res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ apiVersion: "discovery.k8s.io/v1", kind: "EndpointSliceList", metadata: {}, items }));
            return;
        }
        if (url.pathname === `/api/v1/namespaces/${namespace}/pods`) {
            const want = (url.searchParams.get("labelSelector") ?? "").split(",").filter(Boolean).map((kv) => kv.split("="));
            const items = [...podMeta.entries()]
                .filter(([, m]) => want.every(([k, v]) => m.labels[k] === v))
                .map(([name, m]) => ({ metadata: { name, namespace, labels: m.labels }, status: { phase: m.phase } }));
            res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ apiVersion: "v1", kind: "PodList", metadata: {}, items }));
            return;
        }
        res.writeHead(404).end();
    });
    server.on("upgrade", (req, socket, head) => {
        const url = new URL(req.url ?? "/", "http://x");
        const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/.exec(url.pathname);
        const port = Number(url.searchParams.get("ports"));
        const target = m && m[1] === namespace ? pods.get(m[2]) : undefined;
        if (!m || !target) {
            socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n{"kind":"Status","message":"pods \\"${m?.[2]}\\" not found"}`);
            return;
        }
        requests.push(`${m[1]}/${m[2]}:${port}`);
        wss.handleUpgrade(req, socket, head, (ws: any) => {
            const portBytes = Buffer.from([port & 0xff, port >> 8]);
            ws.send(Buffer.concat([Buffer.from([0]), portBytes]));
            ws.send(Buffer.concat([Buffer.from([1]), portBytes]));
            const tcp = net.connect(target.port, target.host);
            tcp.on("data", (d) => ws.send(Buffer.concat([Buffer.from([0]), d])));
            tcp.on("error", (e) => {
                ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(`error forwarding port ${port}: ${e.message}`)]));
                ws.close();
            });
            tcp.on("close", () => ws.close());
            ws.on("message", (d: Buffer) => {
                if (d[0] === 0 && d.length > 1) {
                    tcp.write(d.subarray(1));
                }
            });
            ws.on("close", () => tcp.destroy());
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const apiPort = (server.address() as net.AddressInfo).port;
    const kubeconfig = [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        // client-node refuses plain http unless TLS verification is explicitly skipped.
        `- name: fake\n  cluster:\n    server: http://127.0.0.1:${apiPort}\n    insecure-skip-tls-verify: true`,
        "users:",
        "- name: fake\n  user:\n    token: fake-token",
        "contexts:",
        "- name: fake\n  context:\n    cluster: fake\n    user: fake",
        "current-context: fake",
        "",
    ].join("\n");
    return {
        kubeconfig,
        requests,
        pods,
        services,
        podMeta,
        close: () =>
            new Promise<void>((r) => {
                for (const c of wss.clients) {
                    c.terminate();
                }
                server.closeAllConnections();
                server.close(() => r());
            }),
    };
}

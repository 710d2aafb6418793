// Reaching a pod through the Kubernetes API (port-forward), without exposing Vault.
// Serialized into the dynamic provider and reused by tunnel.ts: require inside, no module state.

export interface KubeAccess {
    kubeconfig?: string;
    context?: string;
}

/** Loads a KubeConfig from content, or the default (KUBECONFIG / ~/.kube/config / in-cluster). */
export function loadKubeConfig(access: KubeAccess): any {
    // client-node 1.x is ESM-only; require(esm) works on Node >= 20.19.
    const k8s = require("@kubernetes/client-node");
    const kc = new k8s.KubeConfig();
    if (access.kubeconfig) {
        kc.loadFromString(access.kubeconfig);
    } else {
        kc.loadFromDefault();
    }
    if (access.context) {
        kc.setCurrentContext(access.context);
    }
    return kc;
}

/** Pipes one local socket to `port` of the pod (resolved lazily: the pod may not exist yet). */
export function forwardSocket(
    kc: any,
    namespace: string,
    pod: () => Promise<string>,
    port: number,
    socket: import("net").Socket,
    onError: (message: string) => void = () => undefined,
    unref = false,
): void {
    const k8s = require("@kubernetes/client-node");
    const { Writable } = require("stream");
    const pf = new k8s.PortForward(kc);
    // Errors from the kubelet (e.g. "pod not found", "connection refused") arrive on the error channel:
    // drop the local connection so the HTTP client sees a transport error and retries.
    const errSink = new Writable({
        write(chunk: Buffer, _enc: string, cb: () => void) {
            if (chunk.length > 0) {
                onError(chunk.toString("utf8").slice(0, 300));
                socket.destroy();
            }
            cb();
        },
    });
    socket.on("error", () => undefined);
    let podName = "?";
    pod()
        .then((name) => {
            podName = name;
            return pf.portForward(namespace, name, [port], socket, errSink, socket);
        })
        .then((ws: any) => {
            if (unref) {
                // ws exposes no unref(); its TCP socket to the API server must not hold the process open.
                ws._socket?.unref?.();
            }
            ws.on("close", () => socket.end());
            ws.on("error", () => socket.destroy());
            socket.on("close", () => ws.close());
        })
        .catch((e: Error) => {
            onError(`port-forward to ${namespace}/${podName}:${port} failed: ${e?.message ?? String(e)}`);
            socket.destroy();
        });
}

export interface Forward {
    base: string;
    /** Last port-forward error (the local HTTP client only sees a dropped connection). */
    lastError(): string | undefined;
    close(): Promise<void>;
}

/** Opens a listener on 127.0.0.1 (port 0 = any) forwarding each connection to the pod. */
export function openForward(
    kc: any,
    namespace: string,
    pod: () => Promise<string>,
    port: number,
    scheme: string,
    localPort = 0,
    /** Do not keep the process alive just for the listener (a Pulumi program must be able to exit). */
    unref = false,
): Promise<Forward> {
    const net = require("net");
    const sockets = new Set<import("net").Socket>();
    let lastError: string | undefined;
    const server = net.createServer((socket: import("net").Socket) => {
        sockets.add(socket);
        if (unref) {
            // Idle keep-alive connections (e.g. from the vault provider) must not hold the program open either.
            socket.unref();
        }
        socket.on("close", () => sockets.delete(socket));
        forwardSocket(kc, namespace, pod, port, socket, (m) => (lastError = m), unref);
    });
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        if (unref) {
            server.unref();
        }
        server.listen(localPort, "127.0.0.1", () => {
            const addr = server.address() as import("net").AddressInfo;
            resolve({
                base: `${scheme}://127.0.0.1:${addr.port}`,
                lastError: () => lastError,
                close: () =>
                    new Promise<void>((done) => {
                        for (const s of sockets) {
                            s.destroy();
                        }
                        server.close(() => done());
                    }),
            });
        });
    });
}

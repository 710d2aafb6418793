// openVaultTunnel: fixed local port, listening before any pod exists, pod resolved per connection
// (Service -> ready pod via EndpointSlices), and it never holds the program process open.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { freePort } from "../support/openbao";
import { FakeKube, startFakeKube } from "./harness/fake-kube";

jest.setTimeout(60000);

const driver = path.join(__dirname, "harness", "tunnel-driver.js");
let kube: FakeKube;
let pods: http.Server[] = [];
let dir: string;
/** Every driver started, so that a failed or timed-out test leaves none running. */
const drivers: ChildProcess[] = [];

beforeAll(async () => {
    kube = await startFakeKube("vault");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-tunnel-"));
    pods = await Promise.all(["vault-0", "vault-1"].map((name) => podServer(name)));
    pods.forEach((p, n) => kube.pods.set(`vault-${n}`, { host: "127.0.0.1", port: (p.address() as net.AddressInfo).port }));
});

afterAll(async () => {
    for (const p of drivers) {
        if (p.exitCode === null && p.signalCode === null) {
            p.kill("SIGKILL");
        }
    }
    await kube?.close();
    pods.forEach((p) => {
        p.closeAllConnections();
        p.close();
    });
    fs.rmSync(dir, { recursive: true, force: true });
});

test("listens before the pod exists and follows the Service to its ready pod per connection", async () => {
    const localPort = await freePort();
    const { proc, address } = await startTunnel({ namespace: "vault", serviceName: "vault-active", localPort, kubeconfig: kube.kubeconfig });
    try {
        expect(address).toBe(`http://127.0.0.1:${localPort}`);
        await expect(get(address)).rejects.toThrow(); // no ready pod yet: connection dropped, not refused
        kube.services.set("vault-active", ["vault-0"]);
        await expect(get(address)).resolves.toBe("vault-0");
        kube.services.set("vault-active", ["vault-1"]); // failover: the next connection goes to the new active pod
        await expect(get(address)).resolves.toBe("vault-1");
    } finally {
        proc.kill("SIGTERM");
    }
});

test("HA: follows the pod labelled active by the server's service registration (vault-active or openbao-active)", async () => {
    const localPort = await freePort();
    const selector = "app.kubernetes.io/instance=vault,component=server,openbao-active=true";
    const { proc, address } = await startTunnel({ namespace: "vault", podSelector: selector, localPort, kubeconfig: kube.kubeconfig });
    const labels = (active: boolean) => ({ "app.kubernetes.io/instance": "vault", component: "server", "openbao-active": String(active) });
    try {
        await expect(get(address)).rejects.toThrow(); // no active pod yet
        kube.podMeta.set("vault-0", { labels: labels(false), phase: "Running" });
        kube.podMeta.set("vault-1", { labels: labels(true), phase: "Pending" });
        await expect(get(address)).rejects.toThrow(); // labelled active but not running
        kube.podMeta.set("vault-1", { labels: labels(true), phase: "Running" });
        await expect(get(address)).resolves.toBe("vault-1");
        kube.podMeta.set("vault-1", { labels: labels(false), phase: "Running" });
        kube.podMeta.set("vault-0", { labels: labels(true), phase: "Running" }); // failover
        await expect(get(address)).resolves.toBe("vault-0");
    } finally {
        proc.kill("SIGTERM");
    }
});

test("does not keep a Pulumi program process alive, even with an idle keep-alive client", async () => {
    const localPort = await freePort();
    const { proc, address } = await startTunnel({ namespace: "vault", podName: "vault-0", localPort, kubeconfig: kube.kubeconfig }, true);
    expect(address).toBe(`http://127.0.0.1:${localPort}`);
    const agent = new http.Agent({ keepAlive: true });
    await expect(get(address, agent)).resolves.toBe("vault-0");
    // The keep-alive connection stays open; the driver now lets go of its only other handle (stdin).
    const exited = new Promise((resolve) => (proc.exitCode !== null ? resolve(proc.exitCode) : proc.once("exit", resolve)));
    proc.stdin?.end("go\n");
    const code = await exited;
    expect(code).toBe(0);
    agent.destroy();
});

test("the tunnel host outlives the program, waits for the previous run's port, and ends with the process it watches", async () => {
    const { startTunnelHost } = await import("../../components/vault/init/tunnelHost");
    const localPort = await freePort();
    // Stand-ins for two runs' language hosts: the engine keeps its host until every delete is done.
    const sleeper = () => spawn(process.execPath, ["-e", "setInterval(() => {}, 1 << 30)"], { stdio: "ignore" });
    const host1 = sleeper();
    const host2 = sleeper();
    try {
        const args = { namespace: "vault", podName: "vault-0", localPort, kubeconfig: kube.kubeconfig };
        const address = await startTunnelHost(args, host1.pid!);
        expect(address).toBe(`http://127.0.0.1:${localPort}`);
        await expect(get(address)).resolves.toBe("vault-0");
        // The next run starts while the first run's host still holds the port: it waits for it.
        const second = startTunnelHost(args, host2.pid!);
        await new Promise((r) => setTimeout(r, 1000));
        host1.kill("SIGKILL");
        await expect(second).resolves.toBe(address);
        await expect(get(address)).resolves.toBe("vault-0");
        host2.kill("SIGKILL");
        const closed = async () => {
            for (let i = 0; i < 40; i++) {
                const refused = await new Promise<boolean>((resolve) => {
                    const c = net.connect(localPort, "127.0.0.1");
                    c.once("connect", () => (c.destroy(), resolve(false)));
                    c.once("error", () => resolve(true));
                });
                if (refused) return true;
                await new Promise((r) => setTimeout(r, 250));
            }
            return false;
        };
        expect(await closed()).toBe(true);
    } finally {
        host1.kill("SIGKILL");
        host2.kill("SIGKILL");
    }
});

test("the tunnel host reports a port it cannot bind, without hanging", async () => {
    const { startTunnelHost } = await import("../../components/vault/init/tunnelHost");
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const localPort = (blocker.address() as net.AddressInfo).port;
    try {
        await expect(
            startTunnelHost({ namespace: "vault", podName: "vault-0", localPort, kubeconfig: kube.kubeconfig, bindRetrySeconds: 1 }, process.pid),
        ).rejects.toThrow(/EADDRINUSE/);
    } finally {
        blocker.close();
    }
});

function podServer(name: string): Promise<http.Server> {
    const s = http.createServer((_req, res) => res.end(name));
    return new Promise((resolve) => s.listen(0, "127.0.0.1", () => resolve(s)));
}

function get(base: string, agent: http.Agent | false = false): Promise<string> {
    return new Promise((resolve, reject) => {
        const req = http.get(`${base}/v1/sys/seal-status`, { agent, timeout: 10000 }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve(body));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
    });
}

async function startTunnel(args: Record<string, unknown>, exit = false): Promise<{ proc: ChildProcess; address: string }> {
    const file = path.join(dir, `args-${Date.now()}.json`);
    fs.writeFileSync(file, JSON.stringify(args));
    const proc = spawn(process.execPath, [driver, file, ...(exit ? ["--exit"] : [])], { cwd: path.resolve(__dirname, "..", ".."), stdio: [exit ? "pipe" : "ignore", "pipe", "pipe"] });
    drivers.push(proc);
    let out = "";
    let err = "";
    proc.stderr?.on("data", (d) => (err += d));
    const address = await new Promise<string>((resolve, reject) => {
        proc.stdout?.on("data", (d) => {
            out += d;
            const line = out.split("\n").find((l) => l.startsWith("{"));
            if (line) {
                resolve(JSON.parse(line).address);
            }
        });
        // "close" (not "exit"): all of its output has been read by then.
        proc.once("close", (code) => (out.includes("{") ? undefined : reject(new Error(`tunnel driver exited ${code}: ${err}`))));
    });
    return { proc, address };
}

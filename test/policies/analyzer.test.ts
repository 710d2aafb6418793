// End to end through the real policy host: starts policies/ the way `pulumi preview --policy-pack`
// does (run-policy-pack in the pack directory, ts-node compiling index.ts) and speaks the
// analyzer gRPC protocol to it, as the engine would.
import * as grpc from "@grpc/grpc-js";
import { ChildProcess, spawn } from "child_process";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as path from "path";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";
import { policies } from "../../policies/pack";
import { externalSecret, goodStack, previewStack, renderedServer, tokenSecret, vaultPolicy } from "./fixtures";
import { Fixture, UNKNOWN_VALUE, change, urnOf } from "./harness";

const root = path.join(__dirname, "../..");
let host: ChildProcess | undefined;
let client: AnalyzerClient;

type Callback<Res> = (e: grpc.ServiceError | null, r: Res) => void;

function call<Res>(start: (cb: Callback<Res>) => unknown): Promise<Res> {
    return new Promise((resolve, reject) => start((e, r) => (e ? reject(e) : resolve(r))));
}

function resource<T extends pb.AnalyzeRequest | pb.AnalyzerResource>(msg: T, f: Fixture, stack: string): T {
    msg.setType(f.type);
    msg.setName(f.name);
    msg.setUrn(urnOf(stack, f));
    msg.setProperties(Struct.fromJavaScript(f.props as Record<string, never>));
    msg.setOptions(new pb.AnalyzerResourceOptions());
    return msg;
}

async function analyze(f: Fixture, stack = "dev"): Promise<Array<[string, string]>> {
    const res = await call<pb.AnalyzeResponse>((cb) => client.analyze(resource(new pb.AnalyzeRequest(), f, stack), cb));
    return res.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getMessage()]);
}

async function analyzeStack(fixtures: Fixture[], stack: string): Promise<Array<[string, string]>> {
    const req = new pb.AnalyzeStackRequest();
    req.setResourcesList(fixtures.map((f) => resource(new pb.AnalyzerResource(), f, stack)));
    const res = await call<pb.AnalyzeResponse>((cb) => client.analyzeStack(req, cb));
    return res.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getMessage()]);
}

beforeAll(async () => {
    // Same as pulumi-analyzer-policy: cwd is the pack, the program is ".", engine address unused here.
    const proc = spawn(process.execPath, [path.join(root, "node_modules/@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:0", "."], {
        cwd: path.join(root, "policies"),
        stdio: ["ignore", "pipe", "pipe"],
    });
    host = proc;
    const port = await new Promise<string>((resolve, reject) => {
        let out = "";
        let err = "";
        proc.stdout!.on("data", (d: Buffer) => {
            out += d.toString();
            const m = /^(\d+)\s*$/m.exec(out);
            if (m) {
                resolve(m[1]);
            }
        });
        proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
        proc.on("exit", (code) => reject(new Error(`policy host exited with ${code}: ${out}${err}`)));
    });
    client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 180_000);

afterAll(() => {
    client?.close();
    host?.kill();
});

describe("policy pack served by the Pulumi policy host", () => {
    it("announces every policy as mandatory", async () => {
        const info = await call<pb.AnalyzerInfo>((cb) => client.getAnalyzerInfo(new Empty(), cb));
        expect(info.getName()).toBe("vault-eso-platform");
        expect(info.getVersion()).toBe("0.1.0");
        expect(info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()])).toEqual(
            policies.map((p) => [p.name, pb.EnforcementLevel.MANDATORY]),
        );
    });

    it("blocks the guide's plaintext dockerconfigjson Secret", async () => {
        const bad = change(change(tokenSecret, "type", "kubernetes.io/dockerconfigjson"), "data", { ".dockerconfigjson": "eyJ" });
        const diags = await analyze(bad);
        expect(diags.map(([p]) => p)).toEqual(["no-literal-kubernetes-secrets"]);
        expect(diags[0][1]).toContain('kubernetes:core/v1:Secret "platform-reviewer-token": type "kubernetes.io/dockerconfigjson" sets literal data (".dockerconfigjson").');
    });

    it("passes every known-good resource, including the engine's unknown-value sentinel", async () => {
        for (const f of [...goodStack, ...previewStack, change(vaultPolicy, "policy", UNKNOWN_VALUE)]) {
            expect([f.name, await analyze(f, "prod")]).toEqual([f.name, []]);
        }
    });

    it("passes the known-good prod stack and flags a missing audit device from the stack name in the URN", async () => {
        expect(await analyzeStack(goodStack, "prod")).toEqual([]);
        const diags = await analyzeStack(goodStack.filter((f) => f.type !== "vault:index/audit:Audit"), "prod");
        expect(diags.map(([p]) => p)).toEqual(["vault-audit-device"]);
        expect(diags[0][1]).toContain('Stack "prod" (environment prod) declares no vault:index/audit:Audit');
    });

    it("judges prod HA from the rendered chart objects when the Chart shows no inputs", async () => {
        expect(await analyzeStack(previewStack, "prod")).toEqual([]);
        const single = previewStack.map((f) => (f === renderedServer ? change(f, "spec.replicas", 1) : f));
        expect((await analyzeStack(single, "prod")).map(([p]) => p)).toEqual(["vault-prod-ha"]);
    });

    it("applies --policy-pack-config style configuration", async () => {
        const req = new pb.ConfigureAnalyzerRequest();
        const cfg = new pb.PolicyConfig();
        cfg.setEnforcementlevel(pb.EnforcementLevel.MANDATORY);
        cfg.setProperties(Struct.fromJavaScript({ environment: "dev" }));
        req.getPolicyconfigMap().set("vault-audit-device", cfg);
        await call<Empty>((cb) => client.configure(req, cb));
        expect(await analyzeStack(goodStack.filter((f) => f.type !== "vault:index/audit:Audit"), "prod")).toEqual([]);
        expect(await analyze(change(externalSecret, "spec.refreshInterval", "0"))).toHaveLength(1);
    });
});

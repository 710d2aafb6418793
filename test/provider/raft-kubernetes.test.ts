// Two-node raft cluster reached only through (fake) Kubernetes API port-forwards:
// the leader is initialised and unsealed, the follower joins and is unsealed. Once per server
// (support/servers.ts); raft storage on both.
import { BaoServer, generateRootToken, settleAll } from "../support/openbao";
import { eachServer } from "../support/servers";
import { FakeKube, startFakeKube } from "./harness/fake-kube";
import { ProviderRunner, engineView, inputs } from "./harness/run";

jest.setTimeout(120000);

eachServer((flavor) => {
    let leader: BaoServer;
    let follower: BaoServer;
    let kube: FakeKube;
    let runner: ProviderRunner;
    let props: Record<string, unknown>;

    beforeAll(async () => {
        await settleAll([
            BaoServer.start({ nodeId: "vault-0", flavor }).then((s) => (leader = s)),
            BaoServer.start({ nodeId: "vault-1", flavor }).then((s) => (follower = s)),
            startFakeKube("vault").then((k) => (kube = k)),
            ProviderRunner.create().then((r) => (runner = r)),
        ]);
        kube.pods.set("vault-0", { host: "127.0.0.1", port: leader.port });
        kube.pods.set("vault-1", { host: "127.0.0.1", port: follower.port });
        props = inputs({
            kubernetes: { namespace: "vault", podNames: ["vault-0", "vault-1"], kubeconfig: kube.kubeconfig },
            raftLeaderApiAddr: leader.address,
            secretShares: 3,
            secretThreshold: 2,
        });
    });

    afterAll(async () => {
        await Promise.all([leader?.cleanup(), follower?.cleanup(), kube?.close()]);
        runner?.cleanup();
    });

    let id: string;
    let outs: Record<string, unknown>;

    test("create initialises vault-0, joins and unseals vault-1, all through port-forward", async () => {
        const res = await runner.op("create", props);
        expect(res.error).toBeUndefined();
        ({ id, outs } = res.result);
        expect(outs.address).toBe("k8s://vault/vault-0");
        expect(kube.requests).toEqual(expect.arrayContaining(["vault/vault-0:8200", "vault/vault-1:8200"]));
        expect((await leader.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: false, storage_type: "raft" });
        expect((await follower.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: false });
        const { adminToken, rootToken, unsealKeys } = engineView(outs) as { adminToken: string; rootToken: string; unsealKeys: string[] };
        expect(rootToken).toBe("");
        // The admin token does not manage raft; the test reads the configuration with its own root token.
        expect((await leader.api("GET", "sys/storage/raft/configuration", undefined, adminToken)).status).toBe(403);
        const token = await generateRootToken(leader, unsealKeys);
        const conf = await leader.api("GET", "sys/storage/raft/configuration", undefined, token);
        expect(conf.status).toBe(200);
        expect(conf.json.data.config.servers.map((s: { node_id: string }) => s.node_id).sort()).toEqual(["vault-0", "vault-1"]);
        await leader.api("POST", "auth/token/revoke-self", {}, token);
        expect(runner.transcript).not.toContain(adminToken);
    });

    test("a restarted follower is drift: diff reports it, update unseals it without re-joining", async () => {
        await follower.restart();
        expect((await follower.api("GET", "sys/seal-status")).json).toMatchObject({ initialized: true, sealed: true });
        const diff = await runner.op("diff", id, engineView(outs), props);
        expect(diff.result).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        const upd = await runner.op("update", id, engineView(outs), props);
        expect(upd.error).toBeUndefined();
        expect((await follower.api("GET", "sys/seal-status")).json).toMatchObject({ sealed: false });
        const after = await runner.op("diff", id, engineView(upd.result.outs), props);
        expect(after.result.changes).toBe(false);
    });

    test("a missing pod fails with its name and the port-forward error, within the timeout", async () => {
        kube.pods.delete("vault-1");
        const res = await runner.op("update", id, engineView(outs), { ...props, timeoutSeconds: 3 });
        expect(res.ok).toBe(false);
        expect(res.error?.message).toMatch(/k8s:\/\/vault\/vault-1: GET \/v1\/sys\/(init|seal-status) did not succeed in time; last: socket hang up \(port-forward to vault\/vault-1:8200 failed: .*404\)/);
        kube.pods.set("vault-1", { host: "127.0.0.1", port: follower.port });
    });
});

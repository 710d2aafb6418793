// Fleet tier: tenant shards (docs/tenant-shards.md). A shard is a spoke stack in its hub's own
// cluster (`tenantShard`): its tenants are served by the hub's ESO, log in at the mount the hub
// enabled for the shard and read with the hub's reader policy. Adding a tenant to a shard changes
// that shard's stack and nothing else, however many tenants the other stacks hold.
// `f`: as in checks/fleet.mjs, plus hubKube(), initShard(name, tenants), setShardTenants(name,
// tenants), exportStack(stack).
import { randomBytes } from "node:crypto";
import { waitFor } from "../../../scripts/local/lib.mjs";
import { assert, condition, decodeData, eq } from "../lib/assertions.mjs";
import { secretGuardDrill } from "./admission.mjs";

const SHARDS = ["blue", "green"];
const tenant = (shard, name) => ({ name, secrets: [{ name: "db", path: `spokes/${shard}/${name}/db`, keys: ["password"] }] });
const rowOf = (report, stack) => report.stacks.find((s) => s.stack === stack) ?? assert(false, `the fleet report has no row for ${stack}`);

/** The tenant's ExternalSecret Ready in the hub's cluster, its Secret equal to the KV entry (read with the shard's token). */
async function tenantSynced(f, kube, shard, name, token) {
    await waitFor(`${name}: ExternalSecret db Ready with the hub's value`, async () => {
        const es = (await kube.get(`/apis/external-secrets.io/v1/namespaces/${name}/externalsecrets/db`)).json;
        if (condition(es, "Ready")?.status !== "True") return false;
        const secret = (await kube.get(`/api/v1/namespaces/${name}/secrets/db`)).json;
        const kv = (await f.bao("GET", `kv/data/spokes/${shard}/${name}/db`, undefined, token)).json?.data?.data;
        return !!kv?.password && decodeData(secret).password === kv.password;
    }, { timeoutMs: 120000, intervalMs: 1000 });
}

export const fleetShards = (r, f, n) =>
    r.check(n, "tenant shards: two shard stacks in the hub's cluster (tenantShard), one tenant each, synced by the hub's ESO; one more tenant in shard blue: the fleet preview shows exactly that tenant's creates in shard-blue and nothing on the hub or shard-green, the up does the same; readers see only their own folder; in a shard's tenant namespace the hub's ESO syncs under the guard and hand-made Secrets (a tenant user's, the admin's) are denied", async () => {
        // From nothing: the fleet before this check was destroyed; its OpenBao starts empty.
        await f.wipeHub();
        for (const s of SHARDS) await f.initShard(s, [tenant(s, `${s}-a`)]);
        f.writeFleetFile([], { shards: SHARDS });
        const first = await f.fleet("up");
        eq(first.report.stacks.map((s) => [s.stack, s.op, s.result]), [["local", "up", "ok"], ...SHARDS.map((s) => [`shard-${s}`, "up", "ok"])], "stacks, operations, results");
        const kube = f.hubKube();
        const tokens = await f.tokens();
        for (const s of SHARDS) await tenantSynced(f, kube, s, `${s}-a`, tokens[s]);
        // Providers aside: the engine drops a default provider no resource used in the last run.
        const hubUrns = async () => (await f.exportStack("local")).deployment.resources.filter((res) => !res.type.startsWith("pulumi:providers:")).map((res) => res.urn).sort();
        const hubBefore = await hubUrns();

        // One more tenant in shard blue: exactly the resources blue-a has, named for blue-b.
        const state = await f.exportStack("shard-blue");
        const expected = state.deployment.resources
            .map((res) => ({ type: res.type, name: res.urn.split("::").pop() }))
            .filter((res) => res.name.includes("blue-a"))
            .map((res) => `create ${res.type} ${res.name.replaceAll("blue-a", "blue-b")}`)
            .sort();
        assert(expected.length >= 8, `shard-blue's state holds only ${expected.length} resources of tenant blue-a`);
        const charts = state.deployment.resources.filter((res) => res.type.startsWith("kubernetes:helm.sh") || res.type === "platform:externalSecrets:Operator");
        eq(charts.map((res) => res.urn), [], "ESO chart resources in shard-blue's state");
        f.setShardTenants("blue", [tenant("blue", "blue-a"), tenant("blue", "blue-b")]);
        const plan = await f.fleet("preview");
        const done = await f.fleet("up");
        for (const [what, report] of [["preview", plan.report], ["up", done.report]]) {
            eq(rowOf(report, "local").steps, [], `the hub's ${what}`);
            eq(rowOf(report, "shard-green").steps, [], `shard-green's ${what}`);
            eq(rowOf(report, "shard-blue").steps.slice().sort(), expected, `shard-blue's ${what}`);
        }
        await tenantSynced(f, kube, "blue", "blue-b", tokens.blue);
        eq(await hubUrns(), hubBefore, "the hub stack's resources");

        // A reader logs in at its shard's mount and reads its own folder only.
        const jwt = await kube.token("blue-a", "vault-secret-reader", { audiences: ["vault"], expirationSeconds: 600 });
        const login = await f.bao("POST", "auth/spokes/blue/login", { role: "blue-external-secrets-blue-a", jwt });
        const reader = login.json?.auth?.client_token;
        assert(reader, `blue-a's reader could not log in at spokes/blue: HTTP ${login.status}`);
        const status = async (p) => (await f.bao("GET", `kv/data/${p}`, undefined, reader)).status;
        eq(await Promise.all(["spokes/blue/blue-a/db", "spokes/blue/blue-b/db", "spokes/green/green-a/db"].map(status)), [200, 403, 403], "blue-a's reader on blue-a, blue-b, green-a");
        await f.bao("POST", "auth/token/revoke-self", undefined, reader);

        // The guard names the hub's ESO as the one writer in a shard's tenant namespace: the whole
        // drill of the engine tier's check 18, with a new value the shard writes on its folder.
        const touch = async () => {
            const value = randomBytes(12).toString("base64url");
            const w = await f.bao("POST", "kv/data/spokes/green/green-a/db", { data: { password: value } }, tokens.green);
            eq(w.status, 200, "shard green's write of kv/data/spokes/green/green-a/db (HTTP)");
            await waitFor("the hub's ESO wrote the new value into green-a/db", async () => decodeData((await kube.get("/api/v1/namespaces/green-a/secrets/db")).json ?? {}).password === value, { timeoutMs: 60000, intervalMs: 500 });
        };
        const guard = await secretGuardDrill(kube, { namespace: "green-a", synced: "db", touch });
        return [
            "hub + 2 shards up (no ESO chart in shard-blue's state); blue-a and green-a synced by the hub's ESO controller",
            `one more tenant in shard-blue: preview = up = its ${expected.length} creates; hub and shard-green 0 steps; the hub's ${hubBefore.length} resources unchanged; blue-b synced`,
            "blue-a's reader: 200 on its folder, 403 on blue-b's and green-a's",
            ...guard.map((g) => `guard in shard green's green-a: ${g}`),
        ];
    });

// Token work after an HA failover: the active node is whichever sys/leader says is_self, not the
// first pod (a standby answers authenticated requests with a 307 to an address a port-forward
// cannot reach; found by the cluster tier's HA check).
import * as http from "http";
import { AddressInfo } from "net";
import { activeTarget } from "../../components/vault/init/ops";

/** One fake node per entry: what its sys/leader answers (a status code alone = an error answer). */
let leaders: (Record<string, unknown> | number)[];
const servers: http.Server[] = [];
const targets: { label: string; base: string }[] = [];

beforeAll(async () => {
    for (let n = 0; n < 3; n++) {
        const s = http.createServer((req, res) => {
            const a = leaders[n];
            if (req.url !== "/v1/sys/leader") return void res.writeHead(404).end();
            if (typeof a === "number") return void res.writeHead(a).end();
            res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(a));
        });
        await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
        servers.push(s);
        targets.push({ label: `vault-${n}`, base: `http://127.0.0.1:${(s.address() as AddressInfo).port}` });
    }
});

afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

test("after a failover the active node is the one that says is_self, not the first pod", async () => {
    leaders = [{ ha_enabled: true, is_self: false }, { ha_enabled: true, is_self: false }, { ha_enabled: true, is_self: true }];
    expect((await activeTarget(targets, Date.now() + 10000, [])).label).toBe("vault-2");
});

test("a node without HA (single server, file storage) is its own leader", async () => {
    leaders = [{ ha_enabled: false, is_self: false }, 503, 503];
    expect((await activeTarget(targets, Date.now() + 10000, [])).label).toBe("vault-0");
});

test("an election in progress is waited out", async () => {
    leaders = [{ ha_enabled: true, is_self: false }, 503, { ha_enabled: true, is_self: false }];
    setTimeout(() => (leaders[1] = { ha_enabled: true, is_self: true }), 1500);
    const t0 = Date.now();
    expect((await activeTarget(targets, Date.now() + 10000, [])).label).toBe("vault-1");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
});

test("no leader before the deadline: the first target (the caller's request then reports what it gets)", async () => {
    leaders = [{ ha_enabled: true, is_self: false }, { ha_enabled: true, is_self: false }, 503];
    expect((await activeTarget(targets, Date.now() + 2500, [])).label).toBe("vault-0");
});

test("a single target is used as it is, without asking", async () => {
    leaders = [503, 503, 503];
    expect((await activeTarget([targets[0]], Date.now() + 1000, [])).label).toBe("vault-0");
});

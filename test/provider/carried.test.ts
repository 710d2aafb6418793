// What the init resource's check() carries into its inputs so that a preview knows the Vault
// provider's configuration (components/vault/init/provider.ts `carried`): the admin token (held while
// it lives, renewed when aged, fresh once dead) and the server version, against a fake Vault API.
import * as http from "http";
import { AddressInfo } from "net";
import { carried } from "../../components/vault/init/provider";
import { withDefaults } from "../../components/vault/init/inputs";

interface Fake {
    sealed: boolean;
    version: string;
    /** lookup-self: the token's remaining TTL, or undefined for 403 */
    ttl?: number;
}
let fake: Fake;
let seen: string[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
    server = http.createServer((req, res) => {
        seen.push(`${req.method} ${req.url}`);
        const json = (status: number, body: unknown) => {
            res.writeHead(status, { "Content-Type": "application/json" });
            res.end(JSON.stringify(body));
        };
        if (req.url === "/v1/sys/seal-status") return json(200, { type: "shamir", initialized: true, sealed: fake.sealed, t: 2, n: 3, version: fake.version });
        if (req.url === "/v1/sys/leader") return json(200, { ha_enabled: false });
        if (req.url === "/v1/auth/token/lookup-self") return fake.ttl === undefined ? json(403, { errors: ["permission denied"] }) : json(200, { data: { ttl: fake.ttl } });
        if (req.url === "/v1/auth/token/renew-self") return json(200, { auth: {} });
        json(404, { errors: [] });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));
beforeEach(() => (seen = []));

const inputs = () => withDefaults({ address: base, secretShares: 3, secretThreshold: 2, timeoutSeconds: 5, providerVersion: 3 });
const PERIOD = 768 * 3600;

test("a create chooses a fresh token and asks Vault nothing (it may not exist yet)", async () => {
    fake = { sealed: false, version: "2.7.2", ttl: PERIOD };
    const c = await carried(inputs(), undefined, 5);
    expect(c.adminToken).toMatch(/^pa-[A-Za-z0-9_-]{43}$/);
    expect(c.vaultVersion).toBeUndefined();
    expect(seen).toEqual([]);
    expect((await carried(inputs(), undefined, 5)).adminToken).not.toBe(c.adminToken);
});

test("a live token is kept; renewed only once a tenth of its period (at most 1 h) has passed", async () => {
    fake = { sealed: false, version: "2.7.2", ttl: PERIOD - 60 };
    expect(await carried(inputs(), { adminToken: "pa-held", vaultVersion: "2.7.1" }, 5)).toEqual({ adminToken: "pa-held", vaultVersion: "2.7.2" });
    expect(seen).not.toContain("POST /v1/auth/token/renew-self");
    fake.ttl = PERIOD - 3601;
    seen = [];
    expect((await carried(inputs(), { adminToken: "pa-held" }, 5)).adminToken).toBe("pa-held");
    expect(seen).toContain("POST /v1/auth/token/renew-self");
});

test("a dead token (403) gets a fresh value, which the update mints", async () => {
    fake = { sealed: false, version: "2.7.2", ttl: undefined };
    const c = await carried(inputs(), { adminToken: "pa-held" }, 5);
    expect(c.adminToken).not.toBe("pa-held");
    expect(c.adminToken).toMatch(/^pa-/);
});

test("a sealed Vault cannot tell: the token is kept, the version is read from seal-status", async () => {
    fake = { sealed: true, version: "2.8.0", ttl: undefined };
    expect(await carried(inputs(), { adminToken: "pa-held", vaultVersion: "2.7.2" }, 5)).toEqual({ adminToken: "pa-held", vaultVersion: "2.8.0" });
    expect(seen).toEqual(["GET /v1/sys/seal-status"]);
});

test("an unreachable Vault keeps both", async () => {
    const i = withDefaults({ address: "http://127.0.0.1:1", secretShares: 3, secretThreshold: 2, timeoutSeconds: 2, providerVersion: 3 });
    expect(await carried(i, { adminToken: "pa-held", vaultVersion: "2.7.2" }, 2)).toEqual({ adminToken: "pa-held", vaultVersion: "2.7.2" });
});

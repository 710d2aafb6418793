// The root token check right after unseal: a raft node that is still standby answers 307 (seen on
// OpenBao in the shamir suite under load); the check waits for it instead of failing on the redirect.
import * as http from "http";
import { AddressInfo } from "net";
import { verifyToken } from "../../components/vault/init/ops";

let server: http.Server;
let base: string;
let answers: number[];
let seen = 0;

beforeAll(async () => {
    server = http.createServer((req, res) => {
        const status = answers[Math.min(seen++, answers.length - 1)];
        res.writeHead(status, status === 307 ? { Location: `${base}${req.url}` } : { "Content-Type": "application/json" });
        res.end(status === 200 ? JSON.stringify({ data: { policies: ["root"] } }) : status === 403 ? JSON.stringify({ errors: ["permission denied"] }) : "");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
    await new Promise((r) => server.close(r));
});

const target = () => ({ label: base, base });

test("a standby redirect (307) is retried until the node answers", async () => {
    answers = [307, 307, 200];
    seen = 0;
    await verifyToken(target(), "tok", Date.now() + 10000, ["tok"]);
    expect(seen).toBe(3);
});

test("a wrong token (403) still fails at once", async () => {
    answers = [403];
    seen = 0;
    await expect(verifyToken(target(), "tok", Date.now() + 10000, ["tok"])).rejects.toThrow(/root token check .*HTTP 403/);
    expect(seen).toBe(1);
});

test("a node that keeps redirecting fails at the deadline, naming the 307", async () => {
    answers = [307];
    seen = 0;
    await expect(verifyToken(target(), "tok", Date.now() + 1500, ["tok"])).rejects.toThrow(/lookup-self did not succeed in time; last: HTTP 307/);
});

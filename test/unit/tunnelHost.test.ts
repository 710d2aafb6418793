import { spawn } from "child_process";
import { alive } from "../../components/vault/init/tunnelHost";

describe("tunnel host: the process it watches", () => {
    test("a zombie counts as gone (its parent was killed before reaping it), a live process as alive", async () => {
        // `sleep 0.1` exits while its parent (bash exec'ed into `sleep 3`) never waits for it: a zombie.
        const parent = spawn("bash", ["-c", "sleep 0.1 & echo $!; exec sleep 3"], { stdio: ["ignore", "pipe", "ignore"] });
        const pid = await new Promise<number>((resolve) => parent.stdout.once("data", (d: Buffer) => resolve(Number(String(d).trim()))));
        expect(alive(pid)).toBe(true);
        await new Promise((r) => setTimeout(r, 500));
        expect(() => process.kill(pid, 0)).not.toThrow();
        expect(alive(pid)).toBe(false);
        expect(alive(parent.pid!)).toBe(true);
        parent.kill("SIGKILL");
        await new Promise((r) => parent.once("close", r));
    });
});

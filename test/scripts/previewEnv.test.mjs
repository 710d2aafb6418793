// Previews skip the engine's per-step snapshot serialisation (scripts/previewEnv.mjs); nothing that
// writes state does: an `up` or a `destroy` killed mid-run must leave its completed steps behind.
import assert from "node:assert/strict";
import { test } from "node:test";
import { commandEnv } from "../../scripts/local/lib/pulumi.mjs";
import { PREVIEW_ENV } from "../../scripts/previewEnv.mjs";

const base = { PULUMI_BACKEND_URL: "file:///tmp/x", PULUMI_CONFIG_PASSPHRASE: "p" };

test("a preview gets PREVIEW_ENV on top of the run's environment", () => {
    assert.deepEqual(commandEnv(["preview", "--json"], base), { ...base, PULUMI_SKIP_CHECKPOINTS: "true" });
    assert.deepEqual(PREVIEW_ENV, { PULUMI_SKIP_CHECKPOINTS: "true" });
});

test("up, destroy, refresh and the rest run with exactly the environment given", () => {
    for (const cmd of ["up", "destroy", "refresh", "cancel", "stack", "config"]) {
        const env = commandEnv([cmd, "--yes"], base);
        assert.equal(env, base, cmd);
        assert.equal(env.PULUMI_SKIP_CHECKPOINTS, undefined, cmd);
    }
});

test("a caller that sets the variable keeps its value (check 17 previews with the engine's default)", () => {
    assert.equal(commandEnv(["preview"], { ...base, PULUMI_SKIP_CHECKPOINTS: "false" }).PULUMI_SKIP_CHECKPOINTS, "false");
});

// `npm run local -- --down --force` on data dirs with nothing running: it must wipe them and exit 0.
// (It once threw a ReferenceError before doing anything, whenever a data dir existed.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const upScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "scripts", "local", "up.mjs");

function down(dir) {
    return spawnSync(process.execPath, [upScript, "--down", "--force", "--dir", dir], { encoding: "utf8", timeout: 60000 });
}

test("--down --force on an empty data dir removes it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-down-"));
    const r = down(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /stopped nothing \(no live processes\); removed /);
    assert.equal(fs.existsSync(dir), false);
});

test("--down --force on an engine-tier data dir whose processes are gone removes it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-down-"));
    fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify({ mode: "external" }));
    const r = down(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /host still differs/);
    assert.equal(fs.existsSync(dir), false);
});

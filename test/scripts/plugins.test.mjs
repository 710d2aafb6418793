// Plugin discovery of the local scripts (scripts/local/lib/pulumi.mjs): one source of truth for
// the versions, offline "cache" mode when the tools cache has them, else the user's own Pulumi
// home with `pulumi plugin install` (a fake pulumi on PATH stands in for the network).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { ensurePlugins, missingPlugins, pluginMode, pluginsMissingFrom, requiredPlugins } from "../../scripts/local/lib/pulumi.mjs";

const root = path.resolve(import.meta.dirname, "..", "..");
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "plugins-test-"));

function installFake(home, { name, version }) {
    const d = path.join(home, "plugins", `resource-${name}-v${version}`);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, `pulumi-resource-${name}`), "#!/bin/sh\n", { mode: 0o755 });
}

test("the versions are the installed @pulumi packages' versions", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    const want = ["kubernetes", "vault", "random"].map((name) => ({ name, version: pkg.dependencies[`@pulumi/${name}`] }));
    assert.deepEqual(requiredPlugins(), want);
});

test("cache mode when the tools cache has every plugin, user mode otherwise, or as asked", () => {
    const cache = tmp();
    assert.equal(pluginMode(cache, [], ""), "user");
    for (const p of requiredPlugins()) installFake(cache, p);
    assert.deepEqual(pluginsMissingFrom(cache, []), []);
    assert.equal(pluginMode(cache, [], ""), "cache");
    assert.equal(pluginMode(cache, [], "user"), "user");
    assert.equal(pluginMode(tmp(), [], "cache"), "cache");
    assert.throws(() => pluginMode(cache, [], "download"), /LOCAL_PLUGINS=download: use "cache"/);
});

test("a plugin on PATH counts as present", () => {
    const bin = tmp();
    for (const { name } of requiredPlugins()) fs.writeFileSync(path.join(bin, `pulumi-resource-${name}`), "", { mode: 0o755 });
    assert.deepEqual(missingPlugins({ PULUMI_HOME: tmp(), PATH: bin }), []);
});

test("user mode installs the exact pinned versions with `pulumi plugin install`, and reports a failure", () => {
    const home = tmp();
    const bin = tmp();
    const calls = path.join(bin, "calls.log");
    // Fake CLI: records its arguments and lays out the plugin as `pulumi plugin install` would.
    fs.writeFileSync(
        path.join(bin, "pulumi"),
        `#!/bin/sh\necho "$@" >> ${calls}\n[ "$4" = random ] && { echo "error: network unreachable" >&2; exit 1; }\n` +
            `mkdir -p "$PULUMI_HOME/plugins/resource-$4-v$5" && touch "$PULUMI_HOME/plugins/resource-$4-v$5/pulumi-resource-$4"\n`,
        { mode: 0o755 },
    );
    const env = { PATH: `${bin}:${process.env.PATH}`, PULUMI_HOME: home, LOCAL_PLUGINS: "user" };
    const { missing, errors } = ensurePlugins(env);
    const v = Object.fromEntries(requiredPlugins().map((p) => [p.name, p.version]));
    assert.deepEqual(fs.readFileSync(calls, "utf8").trim().split("\n"), ["kubernetes", "vault", "random"].map((n) => `plugin install resource ${n} ${v[n]}`));
    assert.deepEqual(missing, [`pulumi-resource-random v${v.random}`]);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /pulumi-resource-random v.*: pulumi plugin install failed: error: network unreachable/);
});

test("cache mode never downloads", () => {
    const bin = tmp();
    fs.writeFileSync(path.join(bin, "pulumi"), "#!/bin/sh\nexit 99\n", { mode: 0o755 });
    const { missing, errors } = ensurePlugins({ PATH: bin, PULUMI_HOME: tmp(), LOCAL_PLUGINS: "cache" });
    assert.equal(missing.length, 3);
    assert.deepEqual(errors, []);
});

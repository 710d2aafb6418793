// Tests of tools/run.mjs on throwaway wrappers (shims, a tiny Go main, tiny .debs), in a
// temporary tools dir and cache: `node --test tools/`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const runner = path.join(path.dirname(fileURLToPath(import.meta.url)), 'run.mjs');

function setup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tools-test-'));
  const tools = path.join(root, 'tools');
  fs.mkdirSync(tools);
  fs.copyFileSync(runner, path.join(tools, 'run.mjs'));
  const env = {
    ...process.env,
    XDG_CACHE_HOME: path.join(root, 'cache'),
    // Go's build cache would follow XDG_CACHE_HOME and start cold.
    GOCACHE: spawnSync('go', ['env', 'GOCACHE'], { encoding: 'utf8' }).stdout.trim(),
    PATH: `${path.join(root, 'path')}:${process.env.PATH}`,
  };
  fs.mkdirSync(path.join(root, 'path'));
  const run = (...args) => {
    const r = spawnSync(process.execPath, [path.join(tools, 'run.mjs'), ...args], { env, encoding: 'utf8' });
    return { status: r.status, out: r.stdout, err: r.stderr };
  };
  const wrapper = (name, manifest, files = {}) => {
    fs.mkdirSync(path.join(tools, name), { recursive: true });
    fs.writeFileSync(path.join(tools, name, 'tool.json'), JSON.stringify(manifest));
    for (const [f, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(tools, name, f)), { recursive: true });
      fs.writeFileSync(path.join(tools, name, f), text, { mode: 0o755 });
    }
  };
  const cache = path.join(root, 'cache', 'vault-eso-platform', 'tools');
  return { root, tools, cache, env, run, wrapper, done: () => fs.rmSync(root, { recursive: true, force: true }) };
}

const shim = (version) => `#!/bin/sh\necho "hello ${version}"\n`;
const helloManifest = {
  binaries: [
    { name: 'hello', shim: 'hello.sh', pathNames: ['hello'], check: { args: [], expect: 'hello 1.0' } },
    { name: 'pulumi-resource-hello', shim: 'hello.sh', plugin: { kind: 'resource', name: 'hello', version: '1.0.0' } },
  ],
};

test('builds into the cache, reuses it, and answers --path and --check', () => {
  const t = setup();
  try {
    t.wrapper('hello', helloManifest, { 'hello.sh': shim('1.0') });
    assert.equal(t.run('--path', 'hello').status, 1);
    assert.match(t.run('--path', 'hello').err, /run `npm run tools -- hello`/);

    const first = t.run();
    assert.equal(first.status, 0, first.err);
    assert.match(first.out, /hello\s+hello 1\.0\s+built/);
    const p = t.run('--path', 'hello').out.trim();
    assert.ok(p.startsWith(t.cache), p);
    assert.equal(fs.readlinkSync(path.join(t.cache, 'bin', 'hello')), p);

    const plugin = path.join(t.cache, 'pulumi-home', 'plugins', 'resource-hello-v1.0.0', 'pulumi-resource-hello');
    assert.equal(fs.readFileSync(plugin, 'utf8'), shim('1.0'));

    assert.match(t.run().out, /0 \(cached/);
    assert.equal(t.run('--check').status, 0);

    // New inputs: new entry, the old one is pruned.
    t.wrapper('hello', helloManifest, { 'hello.sh': shim('2.0') });
    assert.equal(t.run().status, 0);
    const p2 = t.run('--path', 'hello').out.trim();
    assert.notEqual(p2, p);
    assert.ok(!fs.existsSync(path.dirname(path.dirname(p))));
    const check = t.run('--check');
    assert.equal(check.status, 1);
    assert.match(check.out, /MISMATCH hello \(built\)/);
  } finally {
    t.done();
  }
});

test('prefers PATH unless --no-path, and honours KUBEBUILDER_ASSETS', () => {
  const t = setup();
  try {
    t.wrapper('hello', { binaries: [{ ...helloManifest.binaries[0], envtest: 'hello' }] }, { 'hello.sh': shim('1.0') });
    fs.writeFileSync(path.join(t.root, 'path', 'hello'), shim('9.9'), { mode: 0o755 });
    const r = t.run();
    assert.match(r.out, /hello\s+hello 9\.9\s+PATH/);
    assert.ok(!fs.readdirSync(t.cache).some((e) => e.startsWith('hello-')), 'nothing built while PATH has it');
    assert.equal(t.run('--path', 'hello').out.trim(), path.join(t.root, 'path', 'hello'));
    assert.equal(t.run('--no-path', '--path', 'hello').status, 1);
    assert.equal(t.run('--no-path').status, 0);
    assert.match(t.run('--no-path', '--path', 'hello').out, new RegExp(`^${t.cache}`));

    const assets = path.join(t.root, 'assets');
    fs.mkdirSync(assets);
    fs.writeFileSync(path.join(assets, 'hello'), shim('1.0'), { mode: 0o755 });
    t.env.KUBEBUILDER_ASSETS = assets;
    assert.equal(t.run('--path', 'hello').out.trim(), path.join(assets, 'hello'));
    assert.match(t.run('--check').out, /ok\s+hello \(KUBEBUILDER_ASSETS\)/);
  } finally {
    t.done();
  }
});

test('an optional wrapper is built only when named', () => {
  const t = setup();
  try {
    t.wrapper('hello', helloManifest, { 'hello.sh': shim('1.0') });
    t.wrapper('extra', { optional: true, binaries: [{ name: 'extra', shim: 'extra.sh', check: { args: [], expect: 'hello 3.0' } }] }, { 'extra.sh': shim('3.0') });
    const all = t.run();
    assert.equal(all.status, 0, all.err);
    assert.match(all.out, /hello\s+hello 1\.0\s+built/);
    assert.match(all.out, /extra\s+hello 3\.0\s+optional, not built \(npm run tools -- extra\)/);
    assert.ok(!fs.readdirSync(t.cache).some((e) => e.startsWith('extra-')), 'optional wrapper not built without its name');
    assert.equal(t.run('--path', 'extra').status, 1);
    const check = t.run('--check');
    assert.equal(check.status, 0, check.err);
    assert.match(check.out, /skipped\s+extra: optional and not built/);
    assert.equal(t.run('--check', 'extra').status, 1, 'named, a missing optional tool fails --check');

    const named = t.run('extra');
    assert.equal(named.status, 0, named.err);
    assert.match(named.out, /extra\s+hello 3\.0\s+built/);
    assert.doesNotMatch(named.out, /hello\s+hello 1\.0/, 'only the named wrapper');
    // Once built, the whole-set commands list and check it like any other.
    assert.match(t.run().out, /extra\s+hello 3\.0\s+built\s+0 \(cached/);
    assert.match(t.run('--check').out, /ok\s+extra \(built\)/);

    t.wrapper('bad', { optional: 'yes', binaries: [] });
    assert.match(t.run().err, /optional must be true or false/);
  } finally {
    t.done();
  }
});

test('a failing Go build prints the log tail and keeps the log', () => {
  const t = setup();
  try {
    t.wrapper(
      'broken',
      { binaries: [{ name: 'broken', package: './cmd/broken' }] },
      { 'go.mod': 'module example.com/broken\n\ngo 1.22\n', 'cmd/broken/main.go': 'package main\n\nfunc main() { undefinedCall() }\n' },
    );
    const r = t.run('broken');
    assert.equal(r.status, 1);
    assert.match(r.err, /undefined: undefinedCall/);
    assert.ok(fs.readdirSync(t.cache).some((e) => e.endsWith('.failed.log')));
    assert.match(r.out, /broken\s+FAILED/);
  } finally {
    t.done();
  }
});

test('patches: edits a copy of an upstream module, never the module itself', () => {
  const t = setup();
  try {
    // "Upstream" is a local module (no network): its main does not compile as published.
    const upstream = { 'up/go.mod': 'module example.com/up\n\ngo 1.22\n', 'up/main.go': 'package main\n\nfunc main() { println(notDefined) }\n' };
    const gomod = 'module example.com/wrap\n\ngo 1.22\n\nrequire example.com/up v0.0.0\n\nreplace example.com/up => ./up\n';
    const manifest = (edit) => ({
      binaries: [{ name: 'up', package: 'example.com/up', check: { args: [], expect: 'patched' } }],
      patches: [{ module: 'example.com/up', why: 'test', edits: [{ file: 'main.go', ...edit }] }],
    });
    t.wrapper('up', manifest({ old: 'println(notDefined)', new: 'println("patched")' }), { ...upstream, 'go.mod': gomod });
    const r = t.run('up');
    assert.equal(r.status, 0, r.err + r.out);
    assert.match(r.out, /patching example\.com\/up \(1 edit\)/);
    assert.match(t.run('--check').out, /ok\s+up \(built\)/);
    assert.equal(fs.readFileSync(path.join(t.tools, 'up', 'up', 'main.go'), 'utf8'), upstream['up/main.go'], 'upstream untouched');
    const entry = path.dirname(path.dirname(t.run('--path', 'up').out.trim()));
    assert.ok(!fs.existsSync(path.join(entry, 'patched')), 'the patched copy is not kept');

    // An edit whose text is not there exactly once fails before building.
    t.wrapper('up', manifest({ old: 'println(gone)', new: 'x' }), { ...upstream, 'go.mod': gomod });
    const bad = t.run('up');
    assert.equal(bad.status, 1);
    assert.match(bad.err, /main\.go has 0 occurrences of "println\(gone\)", expected exactly 1/);
    t.wrapper('up', { binaries: [], patches: [{ module: 'example.com/up', edits: [] }] });
    assert.match(t.run().err, /patches need module, why and edits/);
  } finally {
    t.done();
  }
});

// A tiny .deb (a program and a directory of two) built with dpkg-deb, served through
// TOOLS_DEB_DIR instead of apt-get download: no network.
function fakeDeb(root, version, text) {
  const pkg = path.join(root, `pkg-${version.replace(/\W/g, '_')}`);
  fs.mkdirSync(path.join(pkg, 'DEBIAN'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'DEBIAN', 'control'), `Package: fake-tool\nVersion: ${version}\nArchitecture: all\nMaintainer: test <t@example.com>\nDescription: test\n`);
  fs.mkdirSync(path.join(pkg, 'usr', 'bin'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'usr', 'bin', 'fake'), text, { mode: 0o644 }); // packaged without x: the runner sets 0755
  fs.mkdirSync(path.join(pkg, 'usr', 'lib', 'fake'), { recursive: true });
  for (const n of ['plugin-a', 'plugin-b']) fs.writeFileSync(path.join(pkg, 'usr', 'lib', 'fake', n), `#!/bin/sh\necho "${n} ${version}"\n`, { mode: 0o755 });
  const debs = path.join(root, 'debs');
  fs.mkdirSync(debs, { recursive: true });
  const out = path.join(debs, `fake-tool_${version.replace(/^\d+:/, '')}_all.deb`);
  const r = spawnSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', pkg, out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { dir: debs, sha256: createHash('sha256').update(fs.readFileSync(out)).digest('hex') };
}

test('deb: a file and a directory out of a pinned .deb', () => {
  const t = setup();
  try {
    const deb = fakeDeb(t.root, '1:2.0-1', shim('2.0'));
    fakeDeb(t.root, '1:3.0-1', shim('3.0')); // same package, other version: must not be picked
    t.env.TOOLS_DEB_DIR = deb.dir;
    const pin = { package: 'fake-tool', version: '1:2.0-1' };
    const manifest = (sha256) => ({
      optional: true,
      binaries: [{ name: 'fake', deb: { ...pin, path: 'usr/bin/fake', sha256 }, check: { args: [], expect: 'hello 2.0' } }],
      copy: [{ name: 'fake-plugins', deb: { ...pin, path: 'usr/lib/fake' }, check: { file: 'plugin-b', args: [], expect: 'plugin-b 1:2.0-1' } }],
    });
    t.wrapper('fake', manifest({ all: deb.sha256 }));
    const r = t.run('fake');
    assert.equal(r.status, 0, r.err + r.out);
    assert.match(r.out, /deb fake-tool=1:2\.0-1 usr\/bin\/fake -> fake/);
    assert.match(r.out, /fake\s+hello 2\.0\s+built/);
    assert.match(r.out, /fake-plugins\/\s+plugin-b 1:2\.0-1\s+built/);

    const bin = t.run('--path', 'fake').out.trim();
    assert.equal(fs.statSync(bin).mode & 0o777, 0o755);
    const share = t.run('--path', 'fake-plugins').out.trim();
    assert.equal(share, path.join(path.dirname(path.dirname(bin)), 'share', 'fake-plugins'));
    assert.deepEqual(fs.readdirSync(share), ['plugin-a', 'plugin-b']);
    assert.equal(fs.statSync(path.join(share, 'plugin-a')).mode & 0o777, 0o755, 'modes as packaged');
    const check = t.run('--check', 'fake');
    assert.equal(check.status, 0, check.out + check.err);
    assert.match(check.out, /ok\s+fake \(built\)/);
    assert.match(check.out, /ok\s+fake-plugins\/plugin-b \(built\): .* said: plugin-b 1:2\.0-1/);

    const entry = path.dirname(path.dirname(bin));
    const result = JSON.parse(fs.readFileSync(path.join(entry, 'result.json'), 'utf8'));
    assert.deepEqual(result.debs, [{ ...pin, architecture: 'all', file: 'fake-tool_2.0-1_all.deb', sha256: deb.sha256 }], 'one download for both entries');
    assert.ok(!fs.existsSync(path.join(entry, 'debs')), 'the .deb and its unpacked tree are not kept');

    // A sha256 pin for the .deb's architecture must match; pins for other architectures don't apply.
    t.wrapper('fake', manifest({ all: '0'.repeat(64) }));
    const bad = t.run('fake');
    assert.equal(bad.status, 1);
    assert.match(bad.err, /fake-tool_2\.0-1_all\.deb: sha256 [0-9a-f]{64}, tool\.json pins 0{64} for all/);
    t.wrapper('fake', manifest({ amd64: '0'.repeat(64) }));
    assert.equal(t.run('fake').status, 0);
  } finally {
    t.done();
  }
});

test('deb: clear errors for a missing version, member or kind', () => {
  const t = setup();
  try {
    t.env.TOOLS_DEB_DIR = fakeDeb(t.root, '2.0-1', shim('2.0')).dir;
    const one = (deb, where = 'binaries') => ({ [where]: [{ name: 'fake', deb: { package: 'fake-tool', version: '2.0-1', ...deb } }] });
    t.wrapper('fake', one({ version: '9.9-1', path: 'usr/bin/fake' }));
    assert.match(t.run().err, /fake-tool=9\.9-1: no \.deb of that package and version in TOOLS_DEB_DIR/);
    t.wrapper('fake', one({ path: 'usr/bin/nope' }));
    assert.match(t.run().err, /fake-tool_2\.0-1_all\.deb has no usr\/bin\/nope/);
    t.wrapper('fake', one({ path: 'usr/lib/fake' }));
    assert.match(t.run().err, /usr\/lib\/fake is not a file \(a directory goes in "copy"\)/);
    t.wrapper('fake', one({ path: 'usr/bin/fake' }, 'copy'));
    assert.match(t.run().err, /usr\/bin\/fake is not a directory/);
    t.wrapper('fake', one({ path: '../etc/passwd' }));
    assert.match(t.run().err, /deb needs package, version and a relative path/);
    t.wrapper('fake', { copy: [{ name: 'c', module: 'm', path: 'p', deb: { package: 'a', version: '1', path: 'x' } }] });
    assert.match(t.run().err, /copy entries need a name and either module and path, or deb/);
  } finally {
    t.done();
  }
});

test('rejects bad manifests, unknown names and options', () => {
  const t = setup();
  try {
    t.wrapper('a', { binaries: [{ name: 'x', shim: 's', package: 'p' }] });
    assert.match(t.run().err, /exactly one of package, shim, wheel, deb/);
    t.wrapper('a', { binaries: [{ name: 'x', shim: 's' }] });
    t.wrapper('b', { binaries: [{ name: 'x', shim: 's' }] });
    assert.match(t.run().err, /name x is also used by tools\/a/);
    fs.rmSync(path.join(t.tools, 'b'), { recursive: true });
    assert.match(t.run('nope').err, /unknown wrapper nope/);
    assert.equal(t.run('--path', 'nope').status, 2);
    assert.equal(t.run('--frobnicate').status, 2);
  } finally {
    t.done();
  }
});

test('--env points PATH and PULUMI_HOME into the cache', () => {
  const t = setup();
  try {
    const out = t.run('--env').out;
    assert.ok(out.includes(`export PATH='${path.join(t.cache, 'bin')}':"$PATH"`), out);
    assert.ok(out.includes(`export PULUMI_HOME='${path.join(t.cache, 'pulumi-home')}'`), out);
    assert.match(out, /PULUMI_SKIP_UPDATE_CHECK=true/);
    assert.match(out, /PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true/);
  } finally {
    t.done();
  }
});

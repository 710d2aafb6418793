#!/usr/bin/env node
// `npm run local`: the whole platform on this machine with the real Pulumi engine.
//   node scripts/local/up.mjs            start control plane + OpenBao + ESO supervisor, then `pulumi up`
//   node scripts/local/up.mjs --down     pulumi destroy --run-program, then stop everything it started and remove its data dir
//   --down --force                       skip the destroy (wipe the processes and data dir only)
//   --dir <path>                         data dir (default ${XDG_CACHE_HOME:-~/.cache}/vault-eso-platform/local)
//   --infra-only                         stop before `pulumi up` (control plane, OpenBao, ESO supervisor running)
//   --manual                             no Pulumi providers: wire the same objects by hand (scripts/local/manual.mjs)
//   --cluster [--ha]                     the cluster tier: a one-node cluster from parts (kubelet, containerd, CNI,
//                                        kube-proxy, CoreDNS, registry) and the stack in chart mode (Vault and ESO
//                                        chart pods); --ha: 3 raft replicas; --openbao: the openbao chart with an
//                                        OpenBao image instead of vault-helm. --down restores the host as recorded.
//   --fleet [--spokes eu-1,us-1,ap-1]    the local fleet: this stack as the hub plus one loopback control plane (etcd,
//                                        apiserver, controller manager, ESO) per spoke, then `npm run fleet -- up`
//                                        with <dir>/fleet.yaml (default dir ${XDG_CACHE_HOME:-~/.cache}/vault-eso-platform/fleet)
// Running it again while the processes are alive only re-runs `pulumi up`.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CLUSTER_DAEMONS, DAEMONS, FLEET_SPOKES, Kube, STACK, alive, bringUp, bringUpCluster, bringUpSpoke, cfgArgs, defaultDataDir, ensurePlugins, fleetCli, fleetFile, log, paths, pidOf, pulumi, pulumiEnv, readState, tearDown, tearDownCluster, waitFor, writeFleetFile } from "./lib.mjs";

const argv = process.argv.slice(2);
const dirIdx = argv.indexOf("--dir");
const fleet = argv.includes("--fleet");
const dir = path.resolve(dirIdx >= 0 ? argv[dirIdx + 1] : fleet ? path.join(path.dirname(defaultDataDir()), "fleet") : defaultDataDir());

/** `npm run fleet -- <op>` on the local fleet file; resolves its exit code. */
const runFleet = async (op) => (await fleetCli(dir, op)).code;
/** Whether the data dir holds the cluster tier (chart mode on the one-node cluster). */
const isCluster = (d) => fs.existsSync(paths(d).stateJson) && readState(d).mode === "cluster";

if (argv.includes("--down") && fs.existsSync(fleetFile(dir)) && !argv.includes("--force")) {
    // A fleet: every spoke stack, then the hub, through the fleet runner.
    if (alive(pidOf(dir, "kube-apiserver")) && (await runFleet("destroy")) !== 0) {
        log("fleet destroy failed; processes and data left as they are. Fix and run --down again, or --down --force to wipe without destroying.");
        process.exit(1);
    }
    await tearDown(dir);
    log(`stopped the fleet's processes; removed ${dir}`);
    process.exit(0);
}
if (argv.includes("--down")) {
    const clusterRun = isCluster(dir) || fs.existsSync(path.join(dir, "host-before.json"));
    const running = (clusterRun ? CLUSTER_DAEMONS : DAEMONS).filter((n) => alive(pidOf(dir, n)));
    // Through the real engine first: `pulumi destroy --run-program` runs the program, so chart mode's
    // tunnel to Vault is open while the Vault resources are deleted (a plain destroy has no program).
    if (running.includes("kube-apiserver") && fs.existsSync(paths(dir).stackConfig) && !argv.includes("--force")) {
        const env = pulumiEnv(dir);
        const hasResources = await pulumi(dir, ["stack", "export", "--stack", STACK], { env }).then((r) => r.code === 0 && (JSON.parse(r.stdout).deployment?.resources ?? []).length > 0);
        if (hasResources) {
            log(`pulumi destroy --yes --skip-preview --run-program ${cfgArgs(dir).join(" ")}`);
            const r = await pulumi(dir, ["destroy", "--yes", "--skip-preview", "--run-program", ...cfgArgs(dir)], { env, echo: true });
            if (r.code !== 0) {
                log(`pulumi destroy failed (exit ${r.code}); processes and data left as they are. Fix and run --down again, or --down --force to wipe without destroying.`);
                process.exit(1);
            }
        }
    }
    if (clusterRun) {
        const { report, left } = await tearDownCluster(dir);
        for (const r of report) log(r);
        log(`stopped ${running.length ? running.join(", ") : "nothing (no live processes)"}; removed ${dir}`);
        if (left.length) {
            log(`the host still differs from before the cluster started:\n  ${left.join("\n  ")}`);
            process.exit(1);
        }
        log("host state as recorded before the cluster started (sysctls, iptables, links, mounts, cgroups, host dirs, processes)");
        process.exit(0);
    }
    await tearDown(dir);
    log(`stopped ${running.length ? running.join(", ") : "nothing (no live processes)"}; removed ${dir}`);
    process.exit(0);
}

const infraOnly = argv.includes("--infra-only");
const manual = argv.includes("--manual");
if (!infraOnly && !manual) {
    // Offline (tools cache) when the plugins are there, else the user's Pulumi home: `pulumi plugin install`
    // fetches the exact pinned versions, as a normal Pulumi install would (lib/pulumi.mjs pluginMode).
    const penv = pulumiEnv(dir);
    const { missing, errors } = ensurePlugins(penv);
    if (missing.length) {
        console.error(`error: provider plugins missing: ${missing.join(", ")} (mode ${penv.LOCAL_PLUGINS}, PULUMI_HOME ${penv.PULUMI_HOME}).
${errors.map((e) => `  ${e}\n`).join("")}pulumi would fail with "no resource plugin ... found". Without network, build them into the tools cache
(tools/README.md "Provider plugins"); or use --infra-only (everything but pulumi up) or --manual (the same
objects wired without the providers).`);
        process.exit(1);
    }
}

const cluster = argv.includes("--cluster");
const p = paths(dir);
const core = cluster ? CLUSTER_DAEMONS.filter((n) => n !== "seal-server") : ["etcd", "kube-apiserver", "kube-controller-manager", "bao", "eso-supervisor"];
const running = fs.existsSync(p.stateJson) && (!fleet || fs.existsSync(fleetFile(dir))) && isCluster(dir) === cluster && core.every((n) => alive(pidOf(dir, n)));
if (running) {
    log(`reusing the running local stack in ${dir}`);
} else {
    if (fs.existsSync(dir)) {
        log(`${dir} exists but its processes are not all running (or another mode): starting over (--down semantics)`);
        if (isCluster(dir) || fs.existsSync(path.join(dir, "host-before.json"))) await tearDownCluster(dir);
        else await tearDown(dir);
    }
    log(`data dir ${dir}`);
    const t0 = Date.now();
    // The registry password is random per local stack; it only lives in (encrypted) stack config.
    const registryPassword = randomBytes(18).toString("base64url");
    if (cluster) {
        log("starting a one-node cluster (etcd, apiserver, controller-manager, scheduler, containerd, kubelet, kube-proxy, CoreDNS, registry); creating stack 'local' in chart mode");
        await bringUpCluster(dir, { registryPassword, ha: argv.includes("--ha"), chartName: argv.includes("--openbao") ? "openbao" : "vault" });
    } else {
        log("starting etcd, kube-apiserver, kube-controller-manager, OpenBao; creating stack 'local'");
        await bringUp(dir, { registryPassword });
    }
    if (fleet) {
        const spokesIdx = argv.indexOf("--spokes");
        const names = spokesIdx >= 0 ? argv[spokesIdx + 1].split(",").filter(Boolean) : FLEET_SPOKES;
        log(`starting a control plane (etcd, kube-apiserver, kube-controller-manager, ESO) per spoke: ${names.join(", ")}`);
        for (const name of names) await bringUpSpoke(dir, name);
        log(`fleet file ${writeFleetFile(dir, names)}`);
    }
    log(`infrastructure ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}

const st = readState(dir);
const env = pulumiEnv(dir);
if (cluster && (infraOnly || manual)) {
    console.log(`
== one-node cluster is up (pulumi up skipped)
  kubeconfig        ${p.kubeconfig}   (admin, system:masters)
  apiserver         https://${st.apiHost}:${st.apiPort}   node ${st.nodeName} ${st.apiHost}
  registry          http://${st.apiHost}:${st.registryPort} (basic auth: registryUsername / registryPassword of the stack)
  logs              ${p.logs}
  stack config      ${p.stackConfig} (pulumi ... ${cfgArgs(dir).join(" ")})
stop, wipe and restore the host:  npm run local -- --down${dir === defaultDataDir() ? "" : ` --dir ${dir}`}
`);
    process.exit(0);
}
if (infraOnly || manual) {
    if (manual && !fs.existsSync(path.join(dir, "manual-wired"))) {
        const { wireManually } = await import("./manual.mjs");
        const t0 = Date.now();
        await wireManually(dir, { registryPassword: randomBytes(18).toString("base64url") });
        fs.writeFileSync(path.join(dir, "manual-wired"), new Date().toISOString());
        const kube = Kube.admin(dir);
        await waitFor("every ExternalSecret synced", async () => {
            const r = await kube.get("/apis/external-secrets.io/v1/namespaces/demo-external-secrets/externalsecrets");
            const items = r.json?.items ?? [];
            return items.length === 3 && items.every((i) => (i.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"));
        }, { timeoutMs: 120000 });
        log(`wired by hand and every ExternalSecret synced in ${((Date.now() - t0) / 1000).toFixed(1)}s (no Pulumi providers involved; root token not kept)`);
    }
    console.log(`
== local infrastructure is up (${manual ? "wired by hand, no pulumi up" : "pulumi up skipped"})
  kubeconfig        ${p.kubeconfig}
  apiserver         https://127.0.0.1:${st.apiPort}
  OpenBao           http://127.0.0.1:${st.baoPort}
  logs              ${p.logs}
  stack config      ${p.stackConfig} (pulumi ... ${cfgArgs(dir).join(" ")})
stop and wipe:  npm run local -- --down${dir === defaultDataDir() ? "" : ` --dir ${dir}`}
`);
    process.exit(0);
}
if (fleet) {
    const code = await runFleet("up");
    console.log(`
== local fleet ${code === 0 ? "is up" : "failed (see the summary above)"}: hub stack ${STACK} (OpenBao http://127.0.0.1:${st.baoPort}), spokes under ${path.join(dir, "spokes")}
the fleet from the repo root:
  eval "$(node tools/run.mjs --env)"
  export PULUMI_CONFIG_PASSPHRASE=${"$"}(node -p 'require("./scripts/local/passphrase.cjs")')
  npm run fleet -- preview --file ${fleetFile(dir)}
stop and wipe:  npm run local -- --fleet --down${dirIdx >= 0 ? ` --dir ${dir}` : ""}
`);
    process.exit(code === 0 ? 0 : 1);
}
log(`pulumi up --yes --skip-preview ${cfgArgs(dir).join(" ")}`);
const up = await pulumi(dir, ["up", "--yes", "--skip-preview", ...cfgArgs(dir)], { env, echo: true });
if (up.code !== 0) {
    log(`pulumi up failed (exit ${up.code}); logs in ${p.logs}; processes left running (stop with: npm run local -- --down)`);
    process.exit(1);
}
const outputs = await pulumi(dir, ["stack", "output", "--json", "--stack", STACK], { env });
if (cluster) {
    console.log(`
== chart-mode stack is up on the one-node cluster (pulumi up took ${(up.ms / 1000).toFixed(1)}s)
stack outputs (secrets hidden):
${outputs.stdout.trim()}

where to look:
  kubeconfig        ${p.kubeconfig}   (admin, system:masters)
  apiserver         https://${st.apiHost}:${st.apiPort}   node ${st.nodeName} ${st.apiHost}
  Vault             the chart's pods in namespace vault; Pulumi reaches vault-0 through its port-forward tunnel
  registry          http://${st.apiHost}:${st.registryPort} (the demo image; basic auth)
  logs              ${p.logs}/{kube-apiserver,kubelet,containerd,kube-proxy,coredns,registry,...}.log; pod logs under ${p.dir}/pod-logs

pulumi against this stack (from the repo root):
  eval "$(node tools/run.mjs --env)"
  export PULUMI_BACKEND_URL=file://${p.state} PULUMI_CONFIG_PASSPHRASE=${"$"}(node -p 'require("./scripts/local/passphrase.cjs")') KUBECONFIG=${p.kubeconfig}
  pulumi preview ${cfgArgs(dir).join(" ")}
stop, wipe and restore the host:  npm run local -- --down${dir === defaultDataDir() ? "" : ` --dir ${dir}`}
`);
    process.exit(0);
}

console.log(`
== local stack is up (pulumi up took ${(up.ms / 1000).toFixed(1)}s)
stack outputs (secrets hidden):
${outputs.stdout.trim()}

where to look:
  kubeconfig        ${p.kubeconfig}   (admin, system:masters)
  apiserver         https://127.0.0.1:${st.apiPort}
  OpenBao           http://127.0.0.1:${st.baoPort}   (admin token: pulumi stack output vaultAdminToken --show-secrets; no root token is kept)
  ESO controller    runs on the host as system:serviceaccount:external-secrets:external-secrets (kubeconfig ${p.esoKubeconfig})
  logs              ${p.logs}/{etcd,kube-apiserver,kube-controller-manager,bao,eso-supervisor,external-secrets}.log
  pids              ${p.pids}

pulumi against this stack (from the repo root):
  eval "$(node tools/run.mjs --env)"
  export PULUMI_BACKEND_URL=file://${p.state} PULUMI_CONFIG_PASSPHRASE=${"$"}(node -p 'require("./scripts/local/passphrase.cjs")') KUBECONFIG=${p.kubeconfig}
  pulumi preview ${cfgArgs(dir).join(" ")}
read a synced secret:
  curl -s --cacert ${p.certs}/ca.crt --cert ${p.certs}/admin.crt --key ${p.certs}/admin.key https://127.0.0.1:${st.apiPort}/api/v1/namespaces/demo-external-secrets/secrets/example-password
stop and wipe:  npm run local -- --down
`);

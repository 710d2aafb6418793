// Shared pieces of the local stack (scripts/local/up.mjs), the end-to-end tests (test/e2e/run.mjs)
// and the benchmark (scripts/bench.mjs): a loopback Kubernetes control plane (etcd, kube-apiserver,
// kube-controller-manager; no kubelet, pods never run), an uninitialised OpenBao, the external-secrets
// controller on the host, and the Pulumi CLI with a file:// backend in the data dir.
//
// One module per concern under lib/ (base, pki, process, kube, controlPlane, openbao, eso, pulumi;
// the cluster tier: cluster (composition), network, node, dns, registry, images, hostState);
// this file re-exports them and composes a whole run. Everything a run creates lives under one data dir: certs/, logs/, pids/, etcd/, bao/, state/,
// state.json (ports), kubeconfig, Pulumi.local.yaml (the stack config used with --config-file, so
// the committed Pulumi.local.yaml in the checkout is never written to).
import * as fs from "node:fs";
import { allocateState } from "./lib/base.mjs";
import { startControlPlane } from "./lib/controlPlane.mjs";
import { prepareEsoChart, startEsoSupervisor } from "./lib/eso.mjs";
import { stopSpokes } from "./lib/fleet.mjs";
import { startBao } from "./lib/openbao.mjs";
import { makePki } from "./lib/pki.mjs";
import { stopAll } from "./lib/process.mjs";
import { initStack } from "./lib/pulumi.mjs";

export * from "./lib/base.mjs";
export * from "./lib/cluster.mjs";
export * from "./lib/controlPlane.mjs";
export * from "./lib/eso.mjs";
export * from "./lib/fleet.mjs";
export * from "./lib/hostState.mjs";
export * from "./lib/kube.mjs";
export * from "./lib/network.mjs";
export * from "./lib/node.mjs";
export * from "./lib/openbao.mjs";
export * from "./lib/pki.mjs";
export * from "./lib/process.mjs";
export * from "./lib/pulumi.mjs";
export * from "./lib/sealServer.mjs";
export * from "./lib/handbuilt.mjs";

/** Everything up to (not including) `pulumi up`: PKI, control plane, OpenBao, chart, stack, ESO supervisor. */
export async function bringUp(dir, { registryPassword, extraConfig } = {}) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = await allocateState(dir);
    makePki(dir);
    const { server } = await startControlPlane(dir, st);
    const vaultAddress = await startBao(dir, st);
    prepareEsoChart(dir);
    await initStack(dir, { vaultAddress, kubernetesHost: server, registryPassword, extraConfig });
    startEsoSupervisor(dir);
    return { st, server, vaultAddress };
}

export async function tearDown(dir) {
    await stopSpokes(dir);
    await stopAll(dir);
    fs.rmSync(dir, { recursive: true, force: true });
}

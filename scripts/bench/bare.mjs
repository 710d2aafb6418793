// The bare baseline's setup (bench/bare), shared by `npm run bench` and `npm run bench -- --scale`:
// a fresh loopback plane with OpenBao initialised and unsealed here (the bare program has no init
// provider), the external-secrets controller, and the bare stack's config.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    Kube, allocateState, bao, initStackOutsideCheckout, makePki, paths, prepareEsoChart, pulumiEnv, pulumiOk, repoRoot, startBao, startControlPlane, startEsoSupervisor, waitFor,
} from "../local/lib.mjs";

/** Returns { args, env, kube, set(key, value, secret?) } for `pulumi ... ${args}` on the bare stack. */
export async function startBare(dir) {
    const st = await allocateState(dir);
    makePki(dir);
    const { server } = await startControlPlane(dir, st);
    const addr = await startBao(dir, st);
    const init = await bao(dir, "PUT", "sys/init", { secret_shares: 1, secret_threshold: 1 });
    await bao(dir, "PUT", "sys/unseal", { key: init.json.keys_base64[0] });
    await waitFor("OpenBao active", async () => (await bao(dir, "GET", "sys/health")).status === 200, { timeoutMs: 30000, intervalMs: 200 });
    const chart = prepareEsoChart(dir);
    startEsoSupervisor(dir);
    const env = pulumiEnv(dir);
    const cfgFile = path.join(dir, "Pulumi.bare.yaml");
    const args = ["-C", "bench/bare", "--stack", "bare", "--config-file", cfgFile];
    fs.mkdirSync(paths(dir).state, { recursive: true });
    await initStackOutsideCheckout(dir, { projectDir: path.join(repoRoot, "bench", "bare"), stack: "bare", cfgFile, env });
    const set = (k, v, secret = false) => pulumiOk(dir, ["config", "set", ...args, secret ? "--secret" : "--plaintext", k, "--", v], { env });
    await set("vaultAddress", addr);
    await set("vaultToken", init.json.root_token, true);
    await set("kubernetesHost", server);
    await set("kubernetesCaCert", fs.readFileSync(path.join(paths(dir).certs, "ca.crt"), "utf8"));
    await set("esoChartPath", chart);
    await set("registryUsername", "e2e-robot");
    await set("registryServer", "registry.example.test");
    await set("registryPassword", randomBytes(18).toString("base64url"), true);
    await set("kubernetes:kubeconfig", paths(dir).kubeconfig);
    return { args, env, kube: Kube.admin(dir), set };
}

// The local ESO supervisor runs the controller with the sync flags of the chart's Deployment
// (scripts/local/lib/eso.mjs esoControllerFlags), as the controller's pod would.
import assert from "node:assert/strict";
import { test } from "node:test";
import { esoControllerFlags } from "../../scripts/local/lib/eso.mjs";

const deployment = (containers) => ({ spec: { template: { spec: { containers } } } });
// The 2.9.0 chart's controller with esoConcurrent 8 and esoVaultTokenCache true.
const chart290 = deployment([
    { name: "external-secrets", args: ["--concurrent=8", "--metrics-addr=:8080", "--loglevel=info", "--enable-vault-token-cache=true", "--vault-token-cache-size=262144", "--enable-leader-election=true"] },
]);

test("takes exactly the sync flags, in the chart's order", () => {
    assert.deepEqual(esoControllerFlags(chart290, { newCacheFlag: true }), ["--concurrent=8", "--enable-vault-token-cache=true", "--vault-token-cache-size=262144"]);
});

test("a controller before 1.0 gets the token cache flags under their experimental names", () => {
    assert.deepEqual(esoControllerFlags(chart290, { newCacheFlag: false }), ["--concurrent=8", "--experimental-enable-vault-token-cache=true", "--experimental-vault-token-cache-size=262144"]);
});

test("the controller container, not a sidecar listed first", () => {
    const d = deployment([{ name: "proxy", args: ["--concurrent=99"] }, { name: "external-secrets", args: ["--concurrent=2"] }]);
    assert.deepEqual(esoControllerFlags(d, { newCacheFlag: true }), ["--concurrent=2"]);
});

test("no args (the chart's defaults), no containers, no Deployment: no flags", () => {
    assert.deepEqual(esoControllerFlags(deployment([{ name: "external-secrets" }]), { newCacheFlag: true }), []);
    assert.deepEqual(esoControllerFlags(deployment([]), { newCacheFlag: true }), []);
    assert.deepEqual(esoControllerFlags(undefined, { newCacheFlag: true }), []);
});

test("flags that merely start alike are not taken; a value in the next arg is kept with its flag", () => {
    const d = deployment([{ name: "external-secrets", args: ["--concurrentX=1", "--enable-vault-token-cache-extra=true", "--concurrent", "4", "--enable-vault-token-cache", "--loglevel=info"] }]);
    assert.deepEqual(esoControllerFlags(d, { newCacheFlag: true }), ["--concurrent=4", "--enable-vault-token-cache"]);
    assert.deepEqual(esoControllerFlags(d, { newCacheFlag: false }), ["--concurrent=4", "--experimental-enable-vault-token-cache"]);
});

// Test-only preload (`NODE_OPTIONS=--require <this file>`) for the e2e's planted policy violation:
// when the program loads components/vault/policy.ts, ESO's generated read policy gains a
// `kv/data/*` grant. Nothing in the program knows about it; the policy pack must catch it.
const Module = require("node:module");
const path = require("node:path");

const target = path.join("components", "vault", "policy.ts");
const load = Module._load;
Module._load = function (request, parent, isMain) {
    const exports = load.apply(this, arguments);
    let file;
    try {
        file = Module._resolveFilename(request, parent, isMain);
    } catch {
        return exports;
    }
    if (file.endsWith(target) && typeof exports.renderKvReadPolicy === "function" && !exports.renderKvReadPolicy.planted) {
        const render = exports.renderKvReadPolicy;
        const widened = (grants) => `${render(grants)}\npath "${grants[0].mount}/data/*" {\n  capabilities = ["read"]\n}\n`;
        widened.planted = true;
        exports.renderKvReadPolicy = widened;
    }
    return exports;
};

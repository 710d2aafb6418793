// Opens a Vault tunnel in its own process (client-node is ESM-only; jest's require cannot load it),
// the way a Pulumi program would (through Pulumi's vendored ts-node).
// Usage: node tunnel-driver.js <args.json> [--exit]: prints {"address": ...}; with --exit, it only waits
// 2s (time for the test to leave an idle keep-alive connection open) and must then end by itself:
// the tunnel must not hold a Pulumi program open.
"use strict";
const fs = require("fs");
const path = require("path");
const root = path.resolve(__dirname, "..", "..", "..");
const { tsnodeRequire, typescriptRequire } = require("@pulumi/pulumi/tsutils").typeScriptRequireStrings();
require(tsnodeRequire).register({ compiler: typescriptRequire, transpileOnly: true, project: path.join(root, "tsconfig.json"), compilerOptions: {} });
const { openVaultTunnel } = require(path.join(root, "components/vault/init/tunnel.ts"));
openVaultTunnel(JSON.parse(fs.readFileSync(process.argv[2], "utf8"))).then(
    (t) => {
        console.log(JSON.stringify({ address: t.address }));
        if (process.argv.includes("--exit")) {
            setTimeout(() => undefined, 2000);
        } else {
            setInterval(() => undefined, 1 << 30);
            process.on("SIGTERM", () => t.close().then(() => process.exit(0)));
        }
    },
    (e) => {
        console.error(e.stack || String(e));
        process.exit(1);
    },
);

// Opens a Vault tunnel in its own process (client-node is ESM-only; jest's require cannot load it),
// the way a Pulumi program would (through Pulumi's vendored ts-node).
// Usage: node tunnel-driver.js <args.json> [--exit]: prints {"address": ...}; with --exit, it holds
// nothing but stdin until the test writes a line (once it has left an idle keep-alive connection
// open), then releases stdin and must end by itself: the tunnel must not hold a Pulumi program open.
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
            process.stdin.once("data", () => process.stdin.destroy());
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

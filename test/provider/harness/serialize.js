// Serializes the VaultInit provider exactly as the engine does (dynamic/index.js serializeFunctionMaybeSecret),
// loading the TypeScript through Pulumi's vendored ts-node like `pulumi up` would. Usage: node serialize.js <out.js>
// Writes the text to <out.js> and {"containsSecrets": ...} to <out.js>.json.
"use strict";
const fs = require("fs");
const path = require("path");
const root = path.resolve(__dirname, "..", "..", "..");
process.chdir(root);
const { tsnodeRequire, typescriptRequire } = require("@pulumi/pulumi/tsutils").typeScriptRequireStrings();
require(tsnodeRequire).register({ compiler: typescriptRequire, transpileOnly: true, project: path.join(root, "tsconfig.json"), compilerOptions: {} });
const { vaultInitProvider } = require(path.join(root, "components/vault/init/provider.ts"));
const sc = require("@pulumi/pulumi/runtime/closure/serializeClosure");
sc.serializeFunction(() => vaultInitProvider, { allowSecrets: true }).then(
    (sf) => {
        fs.writeFileSync(process.argv[2], sf.text);
        fs.writeFileSync(`${process.argv[2]}.json`, JSON.stringify({ containsSecrets: sf.containsSecrets }));
    },
    (e) => {
        console.error(e.stack || String(e));
        process.exit(1);
    },
);

// Entry of the detached Vault tunnel host (see tunnelHost.ts), started by the program with
// `node tunnel-host.js <args json>`. Pulumi's vendored ts-node transpiles the TypeScript.
"use strict";
const path = require("path");
const { tsnodeRequire, typescriptRequire } = require("@pulumi/pulumi/tsutils").typeScriptRequireStrings();
require(tsnodeRequire).register({
    compiler: typescriptRequire,
    transpileOnly: true,
    project: path.resolve(__dirname, "..", "..", "..", "tsconfig.json"),
    compilerOptions: {},
});
require("./tunnelHost").hostMain(JSON.parse(process.argv[2]));

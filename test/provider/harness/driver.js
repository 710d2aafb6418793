// Runs one provider method in a fresh process, as the engine's dynamic provider host does
// (requireFromString(text).handler()). Usage: node driver.js <provider.js> <request.json> <result.json>
// The result goes to a file so that stdout/stderr hold only what the provider itself printed.
"use strict";
const fs = require("fs");
const requireFromString = require("require-from-string");
const [providerFile, requestFile, resultFile] = process.argv.slice(2);
const { op, args } = JSON.parse(fs.readFileSync(requestFile, "utf8"));
const provider = requireFromString(fs.readFileSync(providerFile, "utf8")).handler();
Promise.resolve()
    .then(() => provider[op](...args))
    .then(
        (result) => fs.writeFileSync(resultFile, JSON.stringify({ ok: true, result: result === undefined ? null : result })),
        (e) => fs.writeFileSync(resultFile, JSON.stringify({ ok: false, error: { message: e.message, id: e.id, properties: e.properties } })),
    );

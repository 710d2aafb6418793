// End-to-end tier, not part of `npm test`: suites that drive the real `pulumi` CLI (the engine
// with the init/unseal provider against real OpenBao, and `pulumi preview --policy-pack`).
// `npm run test:engine`; its globalSetup provisions bao and the pinned pulumi through the tools
// runner (pulumi's cold build takes ~25 minutes; later runs reuse the cache).
const base = require("./jest.config.js");

module.exports = {
    testTimeout: 240000,
    maxWorkers: 1,
    projects: [{ ...base.projects[0], displayName: "engine", testMatch: ["<rootDir>/test/engine/**/*.test.ts"], globalSetup: "<rootDir>/test/support/global-setup-engine.js" }],
};

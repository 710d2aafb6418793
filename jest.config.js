// `npm test` runs these three projects (after `tsc --noEmit` and eslint); `npm run bench:tests`
// times them per file. The end-to-end tier with the real pulumi CLI is jest.engine.config.js.
//
// Type-checking happens once in `npm run build` (tsc --noEmit); with isolatedModules in
// tsconfig.json ts-jest only transpiles, which keeps each test file's start-up cheap.
const transform = { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] };
// globalSetup serializes the init/unseal provider once per run (every project) and provisions
// OpenBao (the provider project's own file); see test/support/global-setup.js.
const common = {
    testEnvironment: "node",
    transform,
    moduleFileExtensions: ["ts", "js", "json"],
    globalSetup: "<rootDir>/test/support/global-setup.js",
};

module.exports = {
    testTimeout: 120000,
    // Files of all projects share one pool. Four workers on the 2 cores: the provider files spend
    // most of their time waiting on OpenBao servers and child processes, the unit files are CPU-bound
    // (`npm run bench:tests -- --workers N` compares; 2 workers were ~50% slower, 3-5 within noise).
    maxWorkers: 4,
    projects: [
        { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
        { ...common, displayName: "policies", testMatch: ["<rootDir>/test/policies/**/*.test.ts"] },
        // Real OpenBao servers, each file its own (isolation: every file initialises its servers).
        { ...common, displayName: "provider", testMatch: ["<rootDir>/test/provider/**/*.test.ts"], globalSetup: "<rootDir>/test/support/global-setup-provider.js" },
    ],
};

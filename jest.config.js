// Type-checking happens once in `npm run build` (tsc --noEmit); with isolatedModules in
// tsconfig.json ts-jest only transpiles,
// which keeps each test file's start-up cheap.
const transform = { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] };
// Each program run serializes the init/unseal provider (~2 s, more while Go builds share the CPU).
const common = { testEnvironment: "node", transform, moduleFileExtensions: ["ts", "js", "json"] };

module.exports = {
    testTimeout: 120000,
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    { ...common, displayName: "policies", testMatch: ["<rootDir>/test/policies/**/*.test.ts"] },
    // Real OpenBao server tests: slower, one file at a time to keep the 2 cores for the servers.
    { ...common, displayName: "provider", testMatch: ["<rootDir>/test/provider/**/*.test.ts"] },
  ],
};

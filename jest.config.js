// Type-checking happens once in `npm run build` (tsc --noEmit); ts-jest only transpiles,
// which keeps each test file's start-up cheap.
const transform = { "^.+\\.ts$": ["ts-jest", { isolatedModules: true, diagnostics: false }] };
const common = { testEnvironment: "node", transform, moduleFileExtensions: ["ts", "js", "json"] };

module.exports = {
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    { ...common, displayName: "policies", testMatch: ["<rootDir>/test/policies/**/*.test.ts"] },
    // Real OpenBao server tests: slower, one file at a time to keep the 2 cores for the servers.
    { ...common, displayName: "provider", testMatch: ["<rootDir>/test/provider/**/*.test.ts"] },
  ],
};

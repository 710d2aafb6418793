// The test-only passphrase of the local/e2e stacks (not a secret: it protects throwaway state).
module.exports = "vault-eso-platform-local-test-only";

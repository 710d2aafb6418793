// What every `pulumi preview` of the project runs with: the local tiers and the bench
// (scripts/local/lib/pulumi.mjs), the fleet runner (scripts/fleet/run.mjs); the pulumi.yml
// workflow sets the same for its previews (docs/scale.md, "Call sites and previews").
//
// A preview persists no state (the engine gives it a discarding persister, DIY and Pulumi Cloud
// backends alike), yet by default it still serialises the whole snapshot at each planned create,
// update or delete, only to discard it: at 50 tenants adding one was ~80 serialisations of a 9 MB
// state, a quarter of the preview. Skipping them changes no step: the snapshot is still built, and
// checked once at the end. Never for `up` or `destroy`: there the per-step writes are what a crash
// leaves behind.
export const PREVIEW_ENV = Object.freeze({ PULUMI_SKIP_CHECKPOINTS: "true" });

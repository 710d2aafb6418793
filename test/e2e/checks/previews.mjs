// Engine tier: previews tell the truth. For the platform's everyday changes, `pulumi preview`
// announces exactly the steps (operation, type, name) the change needs, and `pulumi up` does exactly
// those. Also: a stack deployed by the program before the Tenant component previews no change with
// the current program (aliases). `h`: the tier's helpers { dir, env, P, POk, needsPulumi, bao, ... }.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cfgArgs, pulumiEnv, repoRoot, wipeBao } from "../../../scripts/local/lib.mjs";
import { assert } from "../lib/assertions.mjs";
import { withProgramAt } from "../lib/oldProgram.mjs";

const INIT = "pulumi-nodejs:dynamic/vault:VaultInit platform-init";
const PROVIDER = "pulumi:providers:vault platform-provider";
// The ESO controller's Deployment (a child of the chart): its args follow esoConcurrent.
const ESO_CONTROLLER = "kubernetes:apps/v1:Deployment platform-eso-chart:external-secrets/external-secrets";

/** "op type name" of every step a `preview --json` plans, `same` and the stack itself left out; sorted. */
export function plannedSteps(previewJson) {
    const j = JSON.parse(previewJson);
    return (j.steps ?? [])
        .filter((s) => s.op !== "same")
        .map((s) => {
            const parts = s.urn.split("::");
            const name = parts.pop();
            return `${s.op} ${parts.pop().split("$").pop()} ${name}`;
        })
        .filter((s) => !/ pulumi:pulumi:Stack /.test(s))
        .sort();
}

/**
 * The same for what a `pulumi up --json` did: its engine events, one JSON object per line; a step
 * done is a resOutputsEvent with its operation.
 */
export function appliedSteps(upJsonStdout) {
    const out = [];
    for (const line of upJsonStdout.split("\n")) {
        if (!line.startsWith("{")) continue;
        let e;
        try {
            e = JSON.parse(line);
        } catch {
            continue;
        }
        const m = e.resOutputsEvent?.metadata;
        if (!m || m.op === "same" || m.op === "refresh" || m.op === "read") continue;
        const parts = m.urn.split("::");
        const name = parts.pop();
        const type = parts.pop().split("$").pop();
        if (type !== "pulumi:pulumi:Stack") out.push(`${m.op} ${type} ${name}`);
    }
    return out.sort();
}

/** Throws with both lists' differences when they are not the same multiset. */
export function sameSteps(actual, expected, what) {
    const missing = expected.filter((s, i) => expected.indexOf(s) === i && actual.filter((x) => x === s).length < expected.filter((x) => x === s).length);
    const extra = actual.filter((s, i) => actual.indexOf(s) === i && expected.filter((x) => x === s).length < actual.filter((x) => x === s).length);
    assert(missing.length === 0 && extra.length === 0, `${what}: ${missing.length ? `missing [${missing.join("; ")}]` : ""}${extra.length ? ` unexpected [${extra.join("; ")}]` : ""}`);
}

/** Preview (exact list asserted), then up (the same list), then a preview with no changes. */
export async function previewThenUp(h, expected, what) {
    const pv = await h.POk(["preview", "--json", ...cfgArgs(h.dir)]);
    const planned = plannedSteps(pv.stdout);
    sameSteps(planned, expected, `${what}: preview`);
    const up = await h.POk(["up", "--yes", "--skip-preview", "--json", ...cfgArgs(h.dir)]);
    sameSteps(appliedSteps(up.stdout), expected, `${what}: up`);
    await h.POk(["preview", "--expect-no-changes", ...cfgArgs(h.dir)]);
    return { planned, up };
}

/**
 * The steps of a tenant's resources (creates; deletes when removed), Tenant component included. A
 * new tenant is flat; `layout: "wrapped"` for one deployed before (components/tenants/layout.ts).
 */
export function tenantSteps(op, tenant, secrets, { seeded = true, layout = "flat" } = {}) {
    const t = `platform-tenant-${tenant}`;
    const out = [
        `${op} platform:tenants:Tenant ${t}`,
        `${op} kubernetes:core/v1:Namespace ${t}-ns`,
        `${op} kubernetes:core/v1:ServiceAccount ${t}-reader`,
        `${op} vault:index/policy:Policy ${t}-policy`,
        `${op} vault:kubernetes/authBackendRole:AuthBackendRole ${t}-role`,
        ...(layout === "wrapped" ? [`${op} platform:externalSecrets:VaultSecretStore ${t}-store`] : []),
        `${op} kubernetes:external-secrets.io/v1:SecretStore ${t}-store-store`,
        `${op} kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy ${t}-guard-policy`,
        `${op} kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding ${t}-guard-binding`,
    ];
    return [...out, ...secrets.flatMap((s) => secretSteps(op, tenant, s, { seeded, layout }))];
}

/** One secret of a tenant: its ExternalSecret, and when seeded its KV entry and generated values. */
export function secretSteps(op, tenant, s, { seeded = true, layout = "flat" } = {}) {
    const id = s.path.replace(/\//g, "-");
    return [
        ...(layout === "wrapped" ? [`${op} platform:externalSecrets:ExternalSecret platform-tenant-${tenant}-${s.name}`] : []),
        `${op} kubernetes:external-secrets.io/v1:ExternalSecret platform-tenant-${tenant}-${s.name}-es`,
        ...(seeded ? [`${op} vault:kv/secretV2:SecretV2 platform-kv-${id}`, ...s.keys.map((k) => `${op} random:index/randomPassword:RandomPassword platform-kv-${id}-${k}`)] : []),
    ];
}

const setTenants = (h, list) => h.POk(["config", "set", ...cfgArgs(h.dir), "vault-eso-platform:tenants", "--", JSON.stringify(list)]);

/**
 * On the running stack (check 9 left tenant team-a): a tenant added, a secret added to it, the tenant
 * removed. Each previews exactly its steps, and `up` does exactly those.
 */
export const tenantPreviewCheck = (r, h, n, base) =>
    r.check(n, "previews tell the truth: a tenant added (its resources + one admin-policy step), a secret added (its ExternalSecret, seed, policy), the tenant removed (its deletes + the admin-policy step); up does exactly that", async () => {
        h.needsPulumi("previews");
        const db = { name: "db", path: "team-c/db", keys: ["password"] };
        const api = { name: "api", path: "team-c/api", keys: ["token"] };
        const teamC = (secrets) => ({ name: "team-c", namespace: "team-c", kvPrefix: "team-c", secrets });
        const notes = [];
        await setTenants(h, [...base, teamC([db])]);
        // Every preview here runs with PREVIEW_ENV (no per-step snapshot serialisation): the engine's
        // default plans the very same steps.
        const engineDefault = { ...pulumiEnv(h.dir), PULUMI_SKIP_CHECKPOINTS: "false" };
        const byDefault = plannedSteps((await h.POk(["preview", "--json", ...cfgArgs(h.dir)], { env: engineDefault })).stdout);
        // The admin token gains write access below team-c's kvPrefix (it seeds there): one update of
        // the init resource, which rewrites the pulumi-admin policy. Nothing else of Vault's moves.
        let res = await previewThenUp(h, [...tenantSteps("create", "team-c", [db]), `update ${INIT}`], "tenant added");
        sameSteps(byDefault, res.planned, "tenant added: preview with the engine's default per-step serialisation vs with PREVIEW_ENV");
        notes.push(`tenant added: ${res.planned.length} steps previewed = applied = previewed without PREVIEW_ENV (up ${(res.up.ms / 1000).toFixed(1)}s)`);
        await h.waitSynced();
        await setTenants(h, [...base, teamC([db, api])]);
        res = await previewThenUp(h, [...secretSteps("create", "team-c", api), "update vault:index/policy:Policy platform-tenant-team-c-policy"], "secret added");
        notes.push(`secret added: ${res.planned.join(", ")}`);
        await h.waitSynced();
        await setTenants(h, base);
        // Removed: the seeded KV entries are retained in Vault (retainOnDelete), their state goes.
        res = await previewThenUp(h, [...tenantSteps("delete", "team-c", [db, api]), `update ${INIT}`], "tenant removed");
        notes.push(`tenant removed: ${res.planned.length} steps previewed = applied`);
        return notes;
    });

/** The exact step lists of a reseal and of a revoked admin token (checks 6 and 10). */
export const RESEAL_STEPS = [`update ${INIT}`];
export const TOKEN_STEPS = [`update ${INIT}`, `update ${PROVIDER}`];

/** The program as it was on main before the Tenant component (and before check()-chosen tokens). */
export const PRE_TENANT_REV = "820707c";

/**
 * A stack deployed with the program before the Tenant component, then previewed with this one:
 * nothing changes (the tenants' resources are aliased). The guard is new and creates its resources:
 * first previewed with tenantSecretGuard false (0 changes), then on (exactly the guards' creates).
 */
export const upgradeCheck = (r, h, n) =>
    r.check(n, `upgrade: a stack deployed by the program at ${PRE_TENANT_REV} (before the Tenant component), previewed with this program: no tenant resource changes (guard off: only the Vault provider gains its version override, once, and the ESO controller its esoConcurrent flag); guard on: plus exactly the guards' creates; up does the same; a tenant added afterwards is flat, the old ones stay wrapped`, async () => {
        h.needsPulumi("an upgrade");
        let cleanedUp = false;
        return withProgramAt(PRE_TENANT_REV, async (tree) => {
            try {
                // From nothing: whatever an earlier check left is destroyed first (a no-op after check 11).
                await h.POk(["destroy", "--yes", "--skip-preview", "--run-program", ...cfgArgs(h.dir)]);
                await wipeBao(h.dir);
                // A tenant whose value is written in Vault by people (seed none): the old program's admin
                // policy listed seeded paths one by one, this one grants seeding tenants' prefixes, so a
                // seeding tenant would (rightly) preview one admin-policy update. First the old program
                // initialises Vault, then the value is written with a generated root token, then the tenant.
                await h.POk(["up", "--yes", "--skip-preview", "--cwd", tree, ...cfgArgs(h.dir)]);
                const root = await h.generateRoot(await h.stackOutput("vaultUnsealKeys"));
                const w = await h.bao("POST", "kv/data/team-u/db", { data: { password: "written-by-people" } }, root);
                await h.bao("POST", "auth/token/revoke-self", {}, root);
                assert(w.status === 200, `write kv/data/team-u/db: HTTP ${w.status}`);
                const tenants = [{ name: "team-u", namespace: "team-u", kvPrefix: "team-u", secrets: [{ name: "db", path: "team-u/db", keys: ["password"], seed: "none" }] }];
                await setTenants(h, tenants);
                await h.POk(["up", "--yes", "--skip-preview", "--cwd", tree, ...cfgArgs(h.dir)]);
                await h.POk(["config", "set", ...cfgArgs(h.dir), "vault-eso-platform:tenantSecretGuard", "false"]);
                const off = plannedSteps((await h.POk(["preview", "--json", ...cfgArgs(h.dir)])).stdout);
                // The Vault provider learns the server's version from the init resource once (so that a
                // sealed Vault's preview asks it nothing), and the ESO controller gains esoConcurrent's
                // default (`--concurrent=8`, a rollout of its pod): those two updates are the only changes.
                sameSteps(off, [`update ${PROVIDER}`, `update ${ESO_CONTROLLER}`], "preview of the old stack with this program, guard off");
                await h.POk(["config", "rm", ...cfgArgs(h.dir), "vault-eso-platform:tenantSecretGuard"]);
                const on = plannedSteps((await h.POk(["preview", "--json", ...cfgArgs(h.dir)])).stdout);
                const guard = (t) => [
                    `create kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy platform-tenant-${t}-guard-policy`,
                    `create kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding platform-tenant-${t}-guard-binding`,
                ];
                sameSteps(on, [...guard("default"), ...guard("team-u"), `update ${PROVIDER}`, `update ${ESO_CONTROLLER}`], "preview of the old stack with this program, guard on");
                const up = await h.POk(["up", "--yes", "--skip-preview", "--json", ...cfgArgs(h.dir)]);
                sameSteps(appliedSteps(up.stdout), on, "up of the old stack with this program");
                await h.POk(["preview", "--expect-no-changes", ...cfgArgs(h.dir)]);
                // The stack now records its tenants as wrapped; one added now is flat (no component
                // around its store or its secret), and the wrapped ones stay as they are.
                const layouts = await h.stackOutput("tenantLayouts");
                assert(JSON.stringify(layouts) === JSON.stringify({ default: "wrapped", "team-u": "wrapped" }), `tenantLayouts after the upgrade: ${JSON.stringify(layouts)}`);
                const fresh = { name: "team-n", namespace: "team-n", kvPrefix: "team-n", secrets: [{ name: "db", path: "team-n/db", keys: ["password"] }] };
                await setTenants(h, [...tenants, fresh]);
                // It seeds: the init resource's update rewrites the admin policy, and (a stack from before
                // check()-chosen tokens, README "Previews") mints the token the preview shows, which the
                // Vault provider takes: that one update, once.
                const added = await previewThenUp(h, [...tenantSteps("create", "team-n", fresh.secrets), `update ${INIT}`, `update ${PROVIDER}`], "a tenant added to the upgraded stack");
                const after = await h.stackOutput("tenantLayouts");
                assert(after["team-n"] === "flat" && after["team-u"] === "wrapped" && after.default === "wrapped", `tenantLayouts after adding team-n: ${JSON.stringify(after)}`);
                await h.POk(["config", "rm", ...cfgArgs(h.dir), "vault-eso-platform:tenants"]);
                await h.POk(["destroy", "--yes", "--skip-preview", "--run-program", ...cfgArgs(h.dir)]);
                cleanedUp = true;
                return [
                    `guard off: ${off.join(", ")} (no tenant resource: aliased)`,
                    `guard on: ${on.length} steps, up did the same; then no changes`,
                    `tenant added after the upgrade: ${added.planned.length} steps, flat (the old tenants stay wrapped)`,
                ];
            } finally {
                // Failed half-way: leave no stack behind for the checks after this one (they start empty).
                if (!cleanedUp) {
                    await h.P(["config", "rm", ...cfgArgs(h.dir), "vault-eso-platform:tenants"]).catch(() => {});
                    await h.P(["destroy", "--yes", "--skip-preview", "--run-program", ...cfgArgs(h.dir)]).catch(() => {});
                }
            }
        });
    });

// Fleet tier: a fleet deployed by the program from before the hub owned its spokes' mounts (each
// spoke enabled `kubernetes-<name>` and wrote `<name>-*` policies with its token, which let it grant
// itself the hub: docs/tenant-shards.md §2), upgraded by `npm run fleet -- up` with this program.
// `f`: as in checks/fleet.mjs, plus wipeHub() and writeFleetFile(names, {project}).
import { assert, eq } from "../lib/assertions.mjs";
import { withProgramAt } from "../lib/oldProgram.mjs";
import { spokeSecrets } from "./fleet.mjs";

/** The program on main before the hub enabled its spokes' mounts and owned their policies. */
export const PRE_HUB_GRANTS_REV = "b1bdee8";

const INIT_UPDATE = "update pulumi-nodejs:dynamic/vault:VaultInit platform-init";
const hubSteps = (spokes) => [
    ...spokes.flatMap((s) => [
        `create vault:index/authBackend:AuthBackend platform-spoke-${s}-mount`,
        `create vault:index/policy:Policy platform-spoke-${s}-reader`,
        `update vault:index/policy:Policy platform-spoke-${s}-policy`,
    ]),
    INIT_UPDATE,
].sort();
// Each spoke: the mount's config and the roles move to the hub's mount (a replace each, the new one
// created first: the role on the old mount is deleted after its successor exists), the stores
// follow, the old mount and the tenants' policies go.
const moved = [
    "vault:kubernetes/authBackendConfig:AuthBackendConfig platform-auth-config",
    "vault:kubernetes/authBackendRole:AuthBackendRole platform-tenant-default-role",
    "vault:kubernetes/authBackendRole:AuthBackendRole platform-tenant-team-a-role",
];
const SPOKE_STEPS = [
    ...moved.flatMap((m) => [`create-replacement ${m}`, `replace ${m}`, `delete-replaced ${m}`]),
    "delete vault:index/authBackend:AuthBackend platform-auth-backend",
    "delete vault:index/policy:Policy platform-tenant-default-policy",
    "delete vault:index/policy:Policy platform-tenant-team-a-policy",
    "update kubernetes:external-secrets.io/v1:SecretStore platform-tenant-default-store-store",
    "update kubernetes:external-secrets.io/v1:SecretStore platform-tenant-team-a-store-store",
].sort();

const rowOf = (report, stack) => report.stacks.find((s) => s.stack === stack) ?? assert(false, `the fleet report has no row for ${stack}`);

/** Each spoke's synced Secrets, as { "<spoke> <ns>/<name>": { key: value } } (values stay in memory). */
async function syncedValues(f) {
    const out = {};
    for (const name of f.spokes) {
        for (const s of spokeSecrets(name)) {
            const secret = (await f.kube(name).get(`/api/v1/namespaces/${s.ns}/secrets/${s.es}`)).json;
            out[`${name} ${s.ns}/${s.es}`] = Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));
        }
    }
    return out;
}

export const fleetUpgrade = (r, f, n) =>
    r.check(n, `upgrade: a fleet deployed by the program at ${PRE_HUB_GRANTS_REV} (spokes enabled their own mounts and wrote their own policies), then npm run fleet with this program: the preview shows exactly what the up does; the hub enables each spoke's mount spokes/<name> and writes its reader policy, each spoke moves its config, roles and stores there and removes its old mount and policies; the same values synced; no old mount or <spoke>-* policy left; then no changes`, async () => {
        return withProgramAt(PRE_HUB_GRANTS_REV, async (tree) => {
            try {
                // From nothing: the fleet before this check was destroyed; its OpenBao starts empty.
                await f.wipeHub();
                f.writeFleetFile(f.spokes, { project: tree });
                await f.fleet("up");
                const admin = await f.adminToken();
                const mountsBefore = Object.keys((await f.bao("GET", "sys/auth", undefined, admin)).json?.data ?? {});
                for (const s of f.spokes) assert(mountsBefore.includes(`kubernetes-${s}/`), `the old program left no mount kubernetes-${s} (mounts: ${mountsBefore.join(", ")})`);
                const before = await waitSynced(f);

                f.writeFleetFile(f.spokes);
                const plan = await f.fleet("preview");
                const { report } = await f.fleet("up");
                eq(rowOf(plan.report, "local").steps.sort(), hubSteps(f.spokes), "the hub's preview");
                eq(rowOf(report, "local").steps.sort(), hubSteps(f.spokes), "the hub's up");
                for (const s of f.spokes) {
                    eq(rowOf(plan.report, f.stackOf(s)).steps.sort(), SPOKE_STEPS, `${s}'s preview`);
                    eq(rowOf(report, f.stackOf(s)).steps.sort(), SPOKE_STEPS, `${s}'s up`);
                }
                // Synced again after the up (refreshInterval 10s), when only the new mount is left to log in at.
                const after = await waitSynced(f, Date.now());
                eq(Object.keys(after).sort(), Object.keys(before).sort(), "synced Secrets after the upgrade");
                for (const k of Object.keys(before)) assert(JSON.stringify(after[k]) === JSON.stringify(before[k]), `${k}: its value changed in the upgrade`);

                const mounts = Object.keys((await f.bao("GET", "sys/auth", undefined, admin)).json?.data ?? {});
                const policies = (await f.bao("LIST", "sys/policies/acl", undefined, admin)).json?.data?.keys ?? [];
                for (const s of f.spokes) {
                    assert(!mounts.includes(`kubernetes-${s}/`) && mounts.includes(`spokes/${s}/`), `${s}: auth mounts after the upgrade: ${mounts.join(", ")}`);
                    eq(policies.filter((p) => p.startsWith(`${s}-`)), [], `${s}'s own policies after the upgrade`);
                    assert(policies.includes(`pulumi-spoke-${s}-reader`), `no reader policy for ${s}`);
                }
                const again = await f.fleet("preview");
                for (const row of again.report.stacks) eq([row.stack, row.steps], [row.stack, []], "a fleet preview after the upgrade");
                await f.fleet("destroy");
                return [
                    `hub: ${hubSteps(f.spokes).length} steps (per spoke its mount, its reader policy, its scope policy updated; the admin policy once), preview = up`,
                    `each spoke: ${SPOKE_STEPS.length} steps (3 replaces onto the new mount, 2 stores, 2 policies and the old mount deleted), preview = up; ${Object.keys(after).length} Secrets synced again after the up (the old mount gone) with the values from before`,
                    "no kubernetes-<spoke> mount and no <spoke>-* policy left; then no changes",
                ];
            } finally {
                f.writeFleetFile(f.spokes);
            }
        });
    });

/** Waits until every spoke's ExternalSecrets are Ready (and refreshed after `since`, ms), then returns the synced values. */
async function waitSynced(f, since = 0) {
    const deadline = Date.now() + 120000;
    for (;;) {
        let ready = true;
        for (const name of f.spokes) {
            for (const s of spokeSecrets(name)) {
                const es = (await f.kube(name).get(`/apis/external-secrets.io/v1/namespaces/${s.ns}/externalsecrets/${s.es}`)).json;
                const fresh = Date.parse(es?.status?.refreshTime ?? "") >= Math.floor(since / 1000) * 1000;
                if (!fresh || !es?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) ready = false;
            }
        }
        if (ready) return syncedValues(f);
        if (Date.now() > deadline) throw new Error("spokes' ExternalSecrets not Ready within 120 s");
        await new Promise((res) => setTimeout(res, 1000));
    }
}

import { helmChartPinned } from "../../policies/rules/charts";
import { esoChart, vaultChart } from "./fixtures";
import { Fixture, UNKNOWN_VALUE, change, validateResource } from "./harness";

const C = 'kubernetes:helm.sh/v4:Chart "platform-chart": chart "vault" ';
const release: Fixture = { ...vaultChart, type: "kubernetes:helm.sh/v3:Release", name: "vault-release" };

describe("helm-chart-pinned", () => {
    it.each([vaultChart, esoChart, release])("accepts $name pinned to an exact version", async (f) => {
        expect((await validateResource(helmChartPinned, f)).violations).toEqual([]);
    });

    it.each(["1.2.3-rc.1", "v0.31.0", "1.0.0+build.5"])("accepts exact version %s", async (version) => {
        expect((await validateResource(helmChartPinned, change(vaultChart, "version", version))).violations).toEqual([]);
    });

    it.each([undefined, ""])("flags version %j", async (version) => {
        const v = await validateResource(helmChartPinned, change(vaultChart, "version", version));
        const shown = version === undefined ? "<unset>" : '""';
        expect(v.violations).toEqual([
            C + `has no version (${shown}), so every run may install a different release. Fix: set version to the exact chart version, e.g. "0.34.1".`,
        ]);
    });

    it.each(["^0.31.0", "~0.31", "0.31.x", ">=0.30.0 <0.32.0", "0.31", "latest", "*", " 0.31.0"])("flags range %j", async (version) => {
        const v = await validateResource(helmChartPinned, change(vaultChart, "version", version));
        expect(v.violations).toEqual([C + `version "${version}" is a range or not SemVer. Fix: set version to one exact chart version, e.g. "0.34.1".`]);
    });

    it("flags an unpinned v3 Release", async () => {
        const v = await validateResource(helmChartPinned, change(release, "version", "0.x"));
        expect(v.violations).toEqual([
            'kubernetes:helm.sh/v3:Release "vault-release": chart "vault" version "0.x" is a range or not SemVer. Fix: set version to one exact chart version, e.g. "0.34.1".',
        ]);
    });

    it("flags an unpinned OCI chart", async () => {
        const v = await validateResource(helmChartPinned, change(change(vaultChart, "chart", "oci://registry-1.docker.io/bitnamicharts/vault"), "version", undefined));
        expect(v.violations).toEqual([
            'kubernetes:helm.sh/v4:Chart "platform-chart": chart "oci://registry-1.docker.io/bitnamicharts/vault" has no version (<unset>), so every run may install a different release. ' +
                'Fix: set version to the exact chart version, e.g. "0.34.1".',
        ]);
    });

    it.each(["./charts/vault", "../vendor/vault", "/opt/charts/vault", "file:///opt/charts/vault", "vault-0.31.0.tgz"])(
        "exempts local chart %s",
        async (chart) => {
            const f = change(change(vaultChart, "chart", chart), "version", undefined);
            expect((await validateResource(helmChartPinned, f)).violations).toEqual([]);
        },
    );

    it("skips a version unknown during preview", async () => {
        expect((await validateResource(helmChartPinned, change(vaultChart, "version", UNKNOWN_VALUE))).violations).toEqual([]);
    });
});

describe("helm-chart-pinned in a real preview", () => {
    it("is not applicable to a v4 Chart registered without inputs (remote component)", async () => {
        const bare = { ...vaultChart, props: {} };
        expect(await validateResource(helmChartPinned, bare)).toEqual({
            violations: [],
            notApplicable: "the Chart's inputs are not visible to policies (remote component)",
        });
    });

    it("still checks a v3 Release without a chart input as unpinned", async () => {
        const v = await validateResource(helmChartPinned, { ...release, props: {} });
        expect(v.violations).toHaveLength(1);
    });
});

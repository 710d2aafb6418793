import { defaultCalls, installMocks, Recorded } from "./mocks";
import { settle } from "./program";

/**
 * Runs `build` with a fresh SDK under mocks (components imported inside `build` share that SDK)
 * and returns what was registered once every registration has settled.
 */
export async function recordComponents(
    build: (pulumi: typeof import("@pulumi/pulumi")) => Promise<void> | void,
    calls = defaultCalls,
): Promise<Recorded[]> {
    let resources: Recorded[] = [];
    await jest.isolateModulesAsync(async () => {
        const pulumi = await import("@pulumi/pulumi");
        const recorded = await installMocks(pulumi, "vault-eso-platform", "test", calls);
        try {
            await build(pulumi);
        } catch (e) {
            // Lets tests prove what a failing constructor registered before it threw.
            await settle(pulumi);
            Object.assign(e as object, { resources: [...recorded] });
            throw e;
        }
        await settle(pulumi);
        resources = [...recorded];
    });
    return resources;
}

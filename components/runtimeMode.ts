import * as pulumi from "@pulumi/pulumi";

/**
 * True when the program runs under Pulumi's mocks (unit tests): nothing may reach out then (no
 * tunnel opened, no request to a hub), the addresses are made up.
 */
export function underMocks(): boolean {
    const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");
    return pulumi.runtime.getMonitor() instanceof MockMonitor;
}

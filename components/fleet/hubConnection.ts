import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { underMocks } from "../runtimeMode";

export interface HubConnectionArgs {
    /** This cluster's name on the hub (its entry in the hub's `spokes`). */
    spokeName: string;
    /**
     * The hub's stack (`org/project/stack`); its outputs `spokeEndpoints` and `spokeTokens` give the
     * address and this spoke's token.
     * @default - none: `address` and `token` are given instead (a hub outside Pulumi)
     */
    hubStack?: string;
    /**
     * The hub's Vault address as this cluster's ESO and this stack reach it.
     * @default - the hub stack's `spokeEndpoints[spokeName].vaultAddress`
     */
    address?: string;
    /** The spoke's token, for a hub outside Pulumi (secret). @default - the hub stack's `spokeTokens[spokeName]` */
    token?: pulumi.Input<string>;
    /** The hub's KV mount. */
    kvMount: string;
    /** This spoke's KV prefix; must equal the hub's record of it. */
    kvPrefix: string;
    /** The auth mount the hub enabled for this spoke; must equal the hub's record of it. @default - not checked */
    authMountPath?: string;
    /** PEM file that verifies the hub's certificate. @default - the system's CAs */
    caCertFile?: string;
}

interface SpokeEndpoint {
    vaultAddress: string;
    /** The hub's server version at its last up. */
    vaultVersion?: string;
    authMountPath: string;
    kvMount: string;
    kvPrefix: string;
}

/**
 * A spoke's link to its hub: the Vault provider every Vault resource of a spoke stack uses, with the
 * scoped token the hub minted for this spoke (it configures the mount the hub enabled for it, writes
 * roles there that hand out the hub's reader policy, and KV below its prefix; it writes no policy).
 * No server, no init, no admin token on this side.
 */
export class HubConnection extends pulumi.ComponentResource {
    /** Provider for every Vault resource of the spoke stack. */
    public readonly provider: vault.Provider;
    /** The hub's Vault address (for this cluster's SecretStores). */
    public readonly address: pulumi.Output<string>;

    constructor(name: string, args: HubConnectionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:fleet:HubConnection", name, {}, opts);
        validate(args);
        const spoke = args.spokeName;
        let token: pulumi.Output<string>;
        let address: pulumi.Output<string>;
        let version: pulumi.Output<string | undefined> | undefined;
        if (args.hubStack) {
            const hub = new pulumi.StackReference(`${name}-hub`, { name: args.hubStack }, { parent: this });
            const hubStack = args.hubStack;
            // A spoke the hub has not minted yet (a pull request adding it): a preview shows its
            // resources with the address and token unknown; an up needs the hub's up first.
            const pending = pulumi.runtime.isDryRun();
            const endpoint = hub.getOutput("spokeEndpoints").apply((all: Record<string, SpokeEndpoint> | undefined): SpokeEndpoint => {
                const e = all?.[spoke];
                const missing = `hub stack ${hubStack} declares no spoke "${spoke}" yet (its spokes: ${Object.keys(all ?? {}).join(", ") || "none"})`;
                if (!e && pending) {
                    void pulumi.log.info(`${missing}: the hub's address and this spoke's token are unknown until the hub's up mints it (npm run fleet runs the hub first)`, this);
                    return pulumi.unknown as unknown as SpokeEndpoint;
                }
                if (!e) throw new Error(`${missing}; add {name: ${spoke}} to the hub's spokes and run the hub's up first`);
                if (e.kvMount !== args.kvMount || e.kvPrefix.replace(/\/$/, "") !== args.kvPrefix) {
                    throw new Error(`hub stack ${hubStack} gives spoke "${spoke}" ${e.kvMount}/${e.kvPrefix}, this stack says ${args.kvMount}/${args.kvPrefix}; set kvPath and spokeKvPrefix to the hub's`);
                }
                if (args.authMountPath && e.authMountPath !== args.authMountPath) {
                    // A hub from before it enabled its spokes' mounts (they enabled kubernetes-<name>
                    // themselves): a preview (a pull request upgrading the fleet) shows this spoke's
                    // steps as they will be once the hub's up has enabled it; an up needs that first.
                    const notYet = `hub stack ${hubStack} has not enabled the auth mount ${args.authMountPath} for spoke "${spoke}" yet (its record: ${e.authMountPath})`;
                    if (!pending) throw new Error(`${notYet}; upgrade the hub and run its up first (npm run fleet runs the hub first)`);
                    void pulumi.log.info(`${notYet}: its up does that before this spoke's (npm run fleet runs the hub first)`, this);
                }
                return e;
            });
            address = args.address ? pulumi.output(args.address) : endpoint.apply((e) => (pulumi.isUnknown(e) ? (pulumi.unknown as unknown as string) : e.vaultAddress));
            version = endpoint.apply((e) => (pulumi.isUnknown(e) ? (pulumi.unknown as unknown as string) : e.vaultVersion));
            token = pulumi.secret(
                pulumi.all([endpoint, hub.getOutput("spokeTokens")]).apply(([e, t]: [SpokeEndpoint, Record<string, string> | undefined]) =>
                    pulumi.isUnknown(e) ? (pulumi.unknown as unknown as string) : tokenOf(t, spoke, hubStack),
                ),
            );
        } else {
            address = pulumi.output(args.address!);
            token = pulumi.secret(pulumi.output(args.token!));
        }
        this.address = address;
        this.provider = new vault.Provider(
            `${name}-provider`,
            {
                address,
                token,
                // The spoke's policy has no auth/token/create: the provider uses the token as it is.
                skipChildToken: true,
                // The hub's version as its state knows it: a preview while the hub is sealed asks the
                // hub nothing (without it, the kubernetes auth config's diff needs the server's version).
                vaultVersionOverride: version as pulumi.Output<string> | undefined,
                caCertFile: args.caCertFile,
            },
            { parent: this },
        );
        // The token is periodic: each `up` renews it (renew-self is in its policy), so a spoke that
        // runs at least once a period keeps it. A preview renews nothing, nor do unit tests (mocks).
        if (!pulumi.runtime.isDryRun() && !underMocks()) {
            pulumi.all([address, token]).apply(([a, t]) => (t ? renewSelf(a, t, args.caCertFile) : undefined));
        }
        this.registerOutputs({ address: this.address });
    }
}

function tokenOf(tokens: Record<string, string> | undefined, spoke: string, hubStack: string): string {
    const t = tokens?.[spoke];
    if (!t) throw new Error(`hub stack ${hubStack} has no token for spoke "${spoke}" in its spokeTokens output; run the hub's up`);
    return t;
}

function validate(args: HubConnectionArgs): void {
    const errors: { propertyPath: string; reason: string }[] = [];
    if (!args.hubStack && !(args.address && args.token)) errors.push({ propertyPath: "hubStack", reason: "give hubStack, or address and token" });
    if (args.hubStack && args.token) errors.push({ propertyPath: "token", reason: "comes from the hub stack's spokeTokens; give hubStack or token, not both" });
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.spokeName)) errors.push({ propertyPath: "spokeName", reason: `"${args.spokeName}" is not a DNS label` });
    if (errors.length) throw new pulumi.InputPropertiesError({ message: "invalid HubConnection arguments", errors });
}

/** POST auth/token/renew-self; a failure is a warning (the token may still have time left). */
async function renewSelf(address: string, token: string, caCertFile?: string): Promise<void> {
    const url = new URL("v1/auth/token/renew-self", address.endsWith("/") ? address : `${address}/`);
    const lib = url.protocol === "https:" ? require("https") : require("http");
    const ca = caCertFile ? require("fs").readFileSync(caCertFile) : undefined;
    const status = await new Promise<number>((resolve) => {
        const req = lib.request(url, { method: "POST", headers: { "X-Vault-Token": token }, ca, timeout: 10000 }, (res: any) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode));
        });
        req.on("error", () => resolve(0));
        req.on("timeout", () => req.destroy());
        req.end("{}");
    });
    if (status !== 200) void pulumi.log.warn(`renewing the spoke's hub token: HTTP ${status || "no answer"}; it expires at the end of its period unless renewed (a later up retries)`);
}

import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { parseDuration } from "../config";
import { SPOKE_PREFIX, renderSpokePolicy, renderSpokeReaderPolicy, spokeMountPath, spokeReaderPolicyName } from "../vault/policy";

export interface SpokeAccessArgs {
    /** The spoke's name: its auth mount is `spokes/<name>`, its reader policy `pulumi-spoke-<name>-reader`. */
    name: string;
    /** The hub's KV v2 mount. */
    kvMount: string;
    /** The spoke's KV entries lie below this prefix. */
    kvPrefix: string;
    /**
     * Period of the spoke's token: renewed by its own stack on every run (renew-self), it expires
     * after this long unused; the hub's state still holds it then: `pulumi up --refresh` on the hub,
     * or remove and re-add the spoke (README "One Vault, many clusters").
     * @default - "768h"
     */
    tokenPeriod?: string;
}

/**
 * On the hub: everything that grants a spoke anything, and the token its stack works with. The
 * spoke's Kubernetes auth mount `spokes/<name>` (the spoke configures it), the one policy its roles
 * hand out (`pulumi-spoke-<name>-reader`, read below `<kvPrefix>/<namespace>/`, templated on the
 * mount's accessor), a scope policy `pulumi-spoke-<name>` (renderSpokePolicy), an orphan token role
 * of the same name that may hand out only that policy, and a periodic token from it. The token is a
 * secret output; removing the spoke deletes the token (revoking it) and disables its mount.
 */
export class SpokeAccess extends pulumi.ComponentResource {
    /** The spoke's token (secret). */
    public readonly token: pulumi.Output<string>;
    public readonly authMountPath: pulumi.Output<string>;
    public readonly policyName: pulumi.Output<string>;
    /** The policy every role on the spoke's mount must hand out. */
    public readonly readerPolicyName: pulumi.Output<string>;
    public readonly kvPrefix: string;

    constructor(name: string, args: SpokeAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:fleet:SpokeAccess", name, {}, opts);
        const scope = `${SPOKE_PREFIX}${args.name}`;
        const mount = new vault.AuthBackend(
            `${name}-mount`,
            { type: "kubernetes", path: spokeMountPath(args.name), description: `Kubernetes service-account login of spoke ${args.name} (configured by its stack)` },
            { parent: this },
        );
        const reader = new vault.Policy(
            `${name}-reader`,
            { name: spokeReaderPolicyName(args.name), policy: mount.accessor.apply((accessor) => renderSpokeReaderPolicy(args, accessor)) },
            { parent: this },
        );
        const policy = new vault.Policy(`${name}-policy`, { name: scope, policy: renderSpokePolicy(args) }, { parent: this });
        const period = periodSeconds(args.tokenPeriod ?? "768h");
        const role = new vault.tokenauth.AuthBackendRole(
            `${name}-role`,
            {
                roleName: scope,
                allowedPolicies: [policy.name],
                disallowedPolicies: ["root", "default"],
                orphan: true,
                renewable: true,
                tokenPeriod: period,
                tokenNoDefaultPolicy: true,
            },
            { parent: this },
        );
        const token = new vault.Token(
            `${name}-token`,
            {
                roleName: role.roleName,
                policies: [policy.name],
                noDefaultPolicy: true,
                noParent: true,
                renewable: true,
                // The role's token_period makes it periodic: asking for a period here takes sudo.
                displayName: scope,
                metadata: { "managed-by": "pulumi hub", spoke: args.name },
            },
            { parent: this },
        );
        this.token = pulumi.secret(token.clientToken);
        this.authMountPath = mount.path;
        this.policyName = policy.name;
        this.readerPolicyName = reader.name;
        this.kvPrefix = args.kvPrefix;
        this.registerOutputs({ token: this.token, authMountPath: this.authMountPath, policyName: this.policyName, readerPolicyName: this.readerPolicyName, kvPrefix: this.kvPrefix });
    }
}

function periodSeconds(period: string): number {
    const seconds = parseDuration(period);
    if (!seconds) throw new pulumi.InputPropertiesError({ message: "invalid SpokeAccess arguments", errors: [{ propertyPath: "tokenPeriod", reason: `"${period}" is not a duration like "768h"` }] });
    return seconds;
}

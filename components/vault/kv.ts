import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as vault from "@pulumi/vault";

export interface KvSeed {
    /** Entry path below the mount. */
    path: string;
    /**
     * Values to write; a value left undefined gets a generated 32-character password
     * (the guide's `averystrongpassword`, done properly).
     */
    values: Record<string, pulumi.Input<string> | undefined>;
}

export interface KvEngineArgs {
    /** Mount path of the KV v2 engine. @default - "kv" */
    path?: string;
    /** Entries Pulumi writes once; their values stay secret in state. */
    seeds: KvSeed[];
    /**
     * Manage the mount: false when it belongs to someone else (a spoke seeds below its prefix of its
     * hub's mount, and may not touch the mount itself).
     * @default - true
     */
    manageMount?: boolean;
}

/** `vault secrets enable -version=2 kv` plus the seeded entries. */
export class KvEngine extends pulumi.ComponentResource {
    public readonly path: pulumi.Output<string>;
    /** The mount alone (what a SecretStore needs), without the seeded entries; none when not managed. */
    public readonly mount: vault.Mount | undefined;
    /** Seeded entry paths (below the mount). */
    public readonly seededPaths: string[] = [];
    private readonly componentName: string;
    private readonly seedsByPath = new Map<string, vault.kv.SecretV2>();

    constructor(name: string, args: KvEngineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:vault:KvEngine", name, {}, opts);

        // Kept on destroy: unmounting a KV engine deletes every secret stored in it.
        const mount =
            args.manageMount === false
                ? undefined
                : new vault.Mount(
                      `${name}-mount`,
                      { path: args.path ?? "kv", type: "kv", options: { version: "2" }, description: "KV v2 secrets synced by external-secrets" },
                      { parent: this, retainOnDelete: true },
                  );

        this.mount = mount;
        this.path = mount?.path ?? pulumi.output(args.path ?? "kv");
        this.componentName = name;
        this.addSeeds(args.seeds);
        this.registerOutputs({ path: this.path });
    }

    /**
     * Seeds more entries (children of this engine, as if given to the constructor). The program seeds
     * each tenant's entries right before declaring the tenant, so that the engine, which starts steps
     * in the order the program declares them, works on the first tenants' stores and secrets while
     * the last tenants' seeds are still being written, instead of after every seed.
     */
    public addSeeds(seeds: KvSeed[]): void {
        for (const seed of seeds) {
            const id = seed.path.replace(/\//g, "-");
            const values: Record<string, pulumi.Input<string>> = {};
            for (const [key, value] of Object.entries(seed.values)) {
                values[key] =
                    value ??
                    new random.RandomPassword(`${this.componentName}-${id}-${key}`, { length: 32, special: false }, { parent: this }).result;
            }
            const entry = new vault.kv.SecretV2(
                `${this.componentName}-${id}`,
                {
                    mount: this.path,
                    name: seed.path,
                    dataJson: pulumi.secret(pulumi.output(values).apply((v) => JSON.stringify(v))),
                },
                // Kept on destroy for the same reason as the mount.
                { parent: this, retainOnDelete: true },
            );
            this.seedsByPath.set(seed.path, entry);
            this.seededPaths.push(seed.path);
        }
    }

    /**
     * The seeded entry at `path`, for what must wait for exactly it (an ExternalSecret's first sync):
     * depending on the whole engine would make every secret wait for every tenant's seeds.
     */
    public seedAt(path: string): pulumi.Resource | undefined {
        return this.seedsByPath.get(path);
    }
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import type { ChartSource } from "../config";
import { checkDnsLabel, checkExactVersion } from "../config";
import { chartSource } from "../helm";
import { underMocks } from "../runtimeMode";
import { VaultInit } from "./init";
import { AdminScope, renderAdminPolicy } from "./policy";
import { VaultInitEscrowCleanup } from "./init/escrowCleanup";
import { startTunnelHost } from "./init/tunnelHost";
import { VaultChartOptions, isOpenBao, releaseNameFor, vaultChartValues, vaultScheme } from "./values";

export interface VaultServerArgs extends Omit<VaultChartOptions, "releaseName" | "namespace"> {
    /**
     * "chart" deploys the hashicorp/vault chart; "external" uses a Vault that already runs elsewhere
     * (HCP, a VM, a local server) at `address`. Init and unseal happen in both modes.
     * @default - "chart"
     */
    mode?: "chart" | "external";
    /** Namespace for the chart (created, and kept on destroy so the data volumes survive). */
    namespace: string;
    /**
     * Create the namespace. Turn off when it must exist first, e.g. to hold the TLS Secret before
     * Vault starts (the Kubernetes provider refuses to create an object that already exists).
     * @default - true
     */
    createNamespace?: boolean;
    /** Chart repository and exact version, or a local chart directory. */
    chart: ChartSource;
    /** External mode only: base URL of the Vault API. */
    address?: string;
    /** PEM file the Vault provider uses to verify Vault's certificate. @default - system roots */
    caCertFile?: string;
    /** Content of that PEM file, for the init/unseal provider. */
    caCert?: string;
    /** Shamir key shares created at init. @default - 5 */
    secretShares?: number;
    /** Shares needed to unseal. @default - 3 */
    secretThreshold?: number;
    /** Adopt a Vault initialised by hand: its unseal keys (secret). */
    adoptUnsealKeys?: pulumi.Input<string[]>;
    /** Adopt a Vault initialised by hand: its root token (secret). Used once to create the admin identity, then revoked. */
    adoptRootToken?: pulumi.Input<string>;
    /**
     * What the program manages in Vault: the `pulumi-admin` policy of the admin token the Vault
     * provider uses grants exactly these (plus the audit device, from `audit`/`flavor`).
     * @default - nothing but audit: the admin token can only manage the audit device
     */
    manages?: Omit<AdminScope, "audit">;
    /** Period of the admin token; every run renews it. @default - "768h" */
    adminTokenPeriod?: string;
    /**
     * Chart mode: local port on which the Pulumi program forwards to the active Vault pod, used by the
     * Vault provider so Vault need not be exposed (see components/vault/init/README.md).
     * @default - 18200
     */
    localPort?: number;
    /**
     * A file audit device writing to stdout (collected with the pod logs). HashiCorp Vault: enabled
     * through the API (vault.Audit). OpenBao refuses that: in chart mode it is declared in the server
     * HCL; in external mode the server's own configuration must declare it, and the program checks
     * that an audit device is enabled.
     * @default - true
     */
    audit?: boolean;
    /**
     * Which server this is: "vault" (HashiCorp Vault) or "openbao". Decides how audit is enabled.
     * @default - chart mode: "openbao" for the openbao chart or an openbao image, else "vault"; external mode: "vault"
     */
    flavor?: "vault" | "openbao";
    /**
     * Chart mode: open the local tunnel for the Vault provider in this process. Off only where
     * something else forwards `localPort` (e.g. `kubectl port-forward` for `pulumi destroy`).
     * @default - true (never under Pulumi's unit-test mocks)
     */
    tunnel?: boolean;
}

/** Vault (or OpenBao) installed, initialised and unsealed, with an explicit provider for configuring it. */
export class VaultServer extends pulumi.ComponentResource {
    /** URL that workloads inside the cluster (ESO) use, e.g. http://vault.vault.svc:8200. */
    public readonly clusterAddress: pulumi.Output<string>;
    /** URL the Vault provider uses from where Pulumi runs. */
    public readonly providerAddress: pulumi.Output<string>;
    public readonly namespace: pulumi.Output<string>;
    public readonly serviceAccountName: pulumi.Output<string>;
    /** What creates Vault's service account (the chart, or the account itself in external mode): the token reviewer waits for it, not for init. */
    public readonly serviceAccountReady: pulumi.Resource;
    /**
     * The admin token (secret): orphan, periodic, only the `pulumi-admin` policy. No root token is
     * kept: the one from init (or adopted) is revoked once this exists.
     */
    public readonly adminToken: pulumi.Output<string>;
    /** Unseal keys, or recovery keys under auto-unseal (secret). */
    public readonly unsealKeys: pulumi.Output<string[]>;
    /** Provider for every Vault resource of the program. */
    public readonly provider: vault.Provider;
    public readonly chart?: k8s.helm.v4.Chart;
    public readonly init: VaultInit;
    /** OpenBao with audit on: the enabled audit devices (declared in the server configuration). */
    public readonly auditDevices?: pulumi.Output<string[]>;

    constructor(name: string, args: VaultServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:vault:VaultServer", name, {}, opts);
        validate(args);
        const mode = args.mode ?? "chart";
        const releaseName = releaseNameFor(args.chart.name);
        const audit = args.audit ?? true;
        const flavor = serverFlavor(args);
        const options: VaultChartOptions = { ...args, releaseName, chartName: args.chart.name, audit };
        const scheme = vaultScheme(options);

        // Chart mode: kept on destroy, since deleting the namespace would delete the PVCs holding
        // Vault's data. External mode: holds the service account whose token Vault uses for TokenReview.
        const ns =
            args.createNamespace === false
                ? undefined
                : new k8s.core.v1.Namespace(
                      `${name}-ns`,
                      { metadata: { name: args.namespace, labels: { "app.kubernetes.io/part-of": "secrets-platform" } } },
                      { parent: this, retainOnDelete: mode === "chart" },
                  );
        this.namespace = ns ? ns.metadata.name : pulumi.output(args.namespace);
        let initDependsOn: pulumi.Resource[] = [];
        if (mode === "chart") {
            this.chart = new k8s.helm.v4.Chart(
                `${name}-chart`,
                {
                    name: releaseName,
                    namespace: this.namespace,
                    ...chartSource(args.chart),
                    values: vaultChartValues(options),
                },
                { parent: this },
            );
            initDependsOn = [this.chart];
            this.serviceAccountReady = this.chart;
            // HA: ESO talks to the active node through the chart's <release>-active Service. Through the
            // main Service a standby answers, and a standby that just restarted may redirect (307) to
            // a leader address that is gone (seen as `no route to host` in a rolling restart). Only
            // where the server sets the label that Service selects (vault-helm: vault-active,
            // openbao chart: openbao-active).
            const service = args.ha && activeServiceSelectsServer(args.chart.name, flavor) ? `${releaseName}-active` : releaseName;
            this.clusterAddress = pulumi.interpolate`${scheme}://${service}.${this.namespace}.svc:8200`;
            this.providerAddress = pulumi.output(providerAddress(args, scheme, releaseName));
        } else {
            // The chart would create it; an external Vault still needs an identity in the cluster.
            this.serviceAccountReady = new k8s.core.v1.ServiceAccount(
                `${name}-sa`,
                { metadata: { name: args.serviceAccount, namespace: this.namespace }, automountServiceAccountToken: false },
                { parent: this },
            );
            this.clusterAddress = pulumi.output(args.address!);
            this.providerAddress = pulumi.output(args.address!);
        }
        this.serviceAccountName = pulumi.output(args.serviceAccount);

        // Through the tunnel Vault is reached as 127.0.0.1; its certificate names the Service.
        const tlsServerName = mode === "chart" && args.tlsSecretName ? `${releaseName}.${args.namespace}.svc` : undefined;
        const podNames = Array.from({ length: args.ha ? args.replicas : 1 }, (_, i) => `${releaseName}-${i}`);
        this.init = new VaultInit(
            `${name}-init`,
            {
                ...(mode === "chart"
                    ? { kubernetes: { namespace: args.namespace, podNames, scheme } }
                    : { address: args.address }),
                caCert: args.caCert,
                tlsServerName,
                secretShares: args.secretShares ?? 5,
                secretThreshold: args.secretThreshold ?? 3,
                adoptUnsealKeys: args.adoptUnsealKeys,
                adoptRootToken: args.adoptRootToken,
                adminPolicy: renderAdminPolicy({
                    authMounts: args.manages?.authMounts ?? [],
                    kvMounts: args.manages?.kvMounts ?? [],
                    spokeTokens: args.manages?.spokeTokens,
                    audit: !audit ? "none" : flavor === "vault" ? "api" : "read",
                }),
                adminTokenPeriod: args.adminTokenPeriod,
                raftLeaderApiAddr: args.ha ? `${scheme}://${podNames[0]}.${releaseName}-internal:8200` : undefined,
            },
            // Vault data lives beyond this stack: removing the resource never seals or wipes anything.
            { parent: this, dependsOn: initDependsOn, retainOnDelete: true },
        );
        // The keys' escrow (a crash between sys/init and the state checkpoint loses nothing) goes once
        // the state holds them: this runs after the init step is saved.
        new VaultInitEscrowCleanup(
            `${name}-init-escrow`,
            { initId: this.init.id, ...(mode === "chart" ? { kubernetes: { namespace: args.namespace, podNames } } : { address: args.address }) },
            { parent: this, dependsOn: [this.init] },
        );
        this.adminToken = pulumi.secret(this.init.adminToken);
        this.unsealKeys = pulumi.secret(this.init.unsealKeys);

        this.provider = new vault.Provider(
            `${name}-provider`,
            {
                address: this.providerAddress,
                token: this.adminToken,
                // A child token would expire between runs and breaks plan-time reads.
                skipChildToken: true,
                // Known without asking Vault: a preview of a sealed Vault must not ask (the provider's
                // version lookup authenticates, which a sealed Vault refuses, and some diffs need it).
                vaultVersionOverride: this.init.vaultVersion,
                caCertFile: args.caCertFile,
                tlsServerName,
            },
            { parent: this },
        );

        if (audit && flavor === "vault") {
            new vault.Audit(
                `${name}-audit`,
                { type: "file", options: { file_path: "stdout" }, description: "audit log to the server's stdout" },
                { parent: this, provider: this.provider },
            );
        } else if (audit) {
            // OpenBao: declared in the server HCL (chart mode: vaultChartValues), not through the API.
            // Read sys/audit with the program's token so a server without one fails loudly, not silently.
            // The path waits on an output the init resource's update only knows once it has run (a
            // preview has it from the state only when nothing changes): a preview of a sealed Vault
            // reads nothing, and says so through the init resource's diff.
            const path = this.init.sealType.apply(() => "sys/audit");
            const devices = vault.generic.getSecretOutput({ path }, { parent: this, provider: this.provider, dependsOn: [this.init] });
            this.auditDevices = devices.dataJson.apply(auditDeviceNames);
        }

        this.registerOutputs({
            clusterAddress: this.clusterAddress,
            providerAddress: this.providerAddress,
            namespace: this.namespace,
            serviceAccountName: this.serviceAccountName,
            adminToken: this.adminToken,
            unsealKeys: this.unsealKeys,
            auditDevices: this.auditDevices,
        });
    }
}

/**
 * The Vault provider's URL in chart mode: a loopback port this program forwards, through the
 * Kubernetes API, to the active pod (labelled `vault-active`/`openbao-active` under HA, the
 * release's pod 0 standalone). The port is
 * fixed so the provider's address is the same in every run.
 */
async function providerAddress(args: VaultServerArgs, scheme: "http" | "https", releaseName: string): Promise<string> {
    const localPort = args.localPort ?? 18200;
    const address = `${scheme}://127.0.0.1:${localPort}`;
    if (args.tunnel === false || underMocks()) return address;
    try {
        // In its own process, alive until the engine is done: deletes run after the program exits.
        await startTunnelHost({
            namespace: args.namespace,
            // HA: the pod that Vault's (OpenBao's) Kubernetes service registration labels active; the
            // vault-helm chart's vault-active Service selects vault-active, which OpenBao never sets.
            ...(args.ha
                ? { podSelector: `app.kubernetes.io/instance=${releaseName},component=server,${serverFlavor(args) === "openbao" ? "openbao" : "vault"}-active=true` }
                : { podName: `${releaseName}-0` }),
            localPort,
            scheme,
        });
    } catch (e) {
        throw new pulumi.RunError(
            `cannot open the Vault tunnel on 127.0.0.1:${localPort} (${(e as Error).message}); ` +
                "free the port or choose another with `pulumi config set vaultLocalPort <port>`",
        );
    }
    return address;
}

const auditHclExample = 'audit "file" "stdout" { options { file_path = "/dev/stdout" } }';

/**
 * The audit devices in a `sys/audit` answer; none is an error that says how to declare one. No
 * answer at all (a preview while the provider's token is not known yet, e.g. Vault sealed) is not
 * an answer: nothing to check until `up`.
 */
export function auditDeviceNames(sysAuditJson: string | undefined): string[] {
    if (!sysAuditJson) return [];
    const names = Object.keys(JSON.parse(sysAuditJson || "{}") as Record<string, unknown>).sort();
    if (names.length === 0) {
        throw new Error(
            "vaultAudit is on but this OpenBao has no audit device, and OpenBao refuses to enable one through the API. " +
                `Declare one in the server configuration (${auditHclExample}) and restart it, or set vaultAudit to false.`,
        );
    }
    return names;
}

/** "openbao" when the args say so (explicitly, or through the chart/image in chart mode), else "vault". */
export function serverFlavor(args: Pick<VaultServerArgs, "flavor" | "mode" | "image" | "chart">): "vault" | "openbao" {
    if (args.flavor) return args.flavor;
    return (args.mode ?? "chart") === "chart" && isOpenBao({ image: args.image, chartName: args.chart.name }) ? "openbao" : "vault";
}

/**
 * The chart's active Service selects `<chart>-active: "true"`, a label the server's Kubernetes
 * service registration sets under its own name: vault-helm with HashiCorp Vault (`vault-active`),
 * the openbao chart with OpenBao (`openbao-active`); vault-helm with an OpenBao image never matches.
 */
export function activeServiceSelectsServer(chartName: string | undefined, flavor: "vault" | "openbao"): boolean {
    return chartName === "openbao" ? flavor === "openbao" : flavor === "vault";
}

function validate(args: VaultServerArgs): void {
    const errors: pulumi.InputPropertyErrorDetails[] = [];
    const add = (propertyPath: string, reason: string | undefined) => reason && errors.push({ propertyPath, reason });
    const mode = args.mode ?? "chart";
    add("namespace", checkDnsLabel(args.namespace));
    if (mode === "chart" && !args.chart.path) add("chart.version", checkExactVersion(args.chart.version));
    if (mode === "external" && !args.address) add("address", "required in external mode");
    if ((args.secretThreshold ?? 3) > (args.secretShares ?? 5)) add("secretThreshold", "must not exceed secretShares");
    if (args.ha && args.replicas < 3) add("replicas", "HA with raft needs at least 3 replicas");
    if (args.flavor && mode === "chart" && args.flavor !== serverFlavor({ ...args, flavor: undefined })) {
        add("flavor", `"${args.flavor}" contradicts the chart/image (${args.chart.name ?? "vault"}${args.image ? `, ${args.image.repository}` : ""}); leave it unset in chart mode`);
    }
    if (errors.length > 0) throw new pulumi.InputPropertiesError({ message: "invalid VaultServer arguments", errors });
}

import type { SealSpec } from "../config/seal";
import { sealHcl, sealServerValues } from "./seal";

/**
 * Values for the hashicorp/vault chart, built from typed options so tests can assert on them
 * and the policy pack can read them in previews.
 */
export interface VaultChartOptions {
    releaseName: string;
    namespace: string;
    serviceAccount: string;
    ha: boolean;
    replicas: number;
    ui: boolean;
    injector: boolean;
    /** Secret with tls.crt, tls.key and ca.crt; TLS is off when unset. */
    tlsSecretName?: string;
    storageSize: string;
    /**
     * HA only: "required" puts every raft replica on its own node (the chart's default: losing a node
     * loses one replica); "preferred" spreads them when it can, for one-node clusters (kind, local).
     * @default - "required"
     */
    podAntiAffinity?: "required" | "preferred";
    image?: { repository: string; tag: string };
    /** Chart name: "vault", or "openbao" for the OpenBao fork of the chart. */
    chartName?: string;
    /**
     * A file audit device to stdout. OpenBao refuses audit devices through the API, so for OpenBao it
     * is declared in the server HCL here; for HashiCorp Vault the program enables it with vault.Audit.
     * @default - false
     */
    audit?: boolean;
    /**
     * How the server seals: Shamir (unseal keys after every restart) or an auto-unseal seal,
     * rendered as a `seal` stanza with its credentials from a Secret or workload identity.
     * @default - Shamir
     */
    seal?: SealSpec;
}

/**
 * Vault's own readiness: a sealed or uninitialised pod is NotReady (503/501), an unsealed active
 * or standby pod is Ready. The init/unseal step reaches pods through a port-forward, which works
 * whatever their readiness, so the StatefulSet and the Services are not awaited (SKIP_AWAIT): awaiting readiness
 * before the step that makes pods ready would never finish.
 */
export const READINESS_PATH = "/v1/sys/health?standbyok=true";

/** The Kubernetes provider's annotation that skips its readiness await for the StatefulSet. */
export const SKIP_AWAIT = { "pulumi.com/skipAwait": "true" };

export function vaultScheme(o: Pick<VaultChartOptions, "tlsSecretName">): "http" | "https" {
    return o.tlsSecretName ? "https" : "http";
}

/**
 * The Helm release name: the chart's own name, so the chart's full name is the release name and
 * pods, Services and labels are what its users expect (`vault-0`/`vault-active` with vault-helm,
 * `openbao-0`/`openbao-active` with the openbao chart; a release "vault" of the openbao chart
 * would be named "vault-openbao").
 */
export function releaseNameFor(chartName: string | undefined): string {
    return chartName === "openbao" ? "openbao" : "vault";
}

/** Where the chart mounts the data volume and `extraVolumes` (the openbao chart: /openbao/...). */
export function chartPaths(o: Pick<VaultChartOptions, "chartName">): { data: string; userconfig: string } {
    const root = o.chartName === "openbao" ? "/openbao" : "/vault";
    return { data: `${root}/data`, userconfig: `${root}/userconfig` };
}

/**
 * `repository:tag` as the chart's image values. The openbao chart prefixes `server.image.registry`
 * (default quay.io), so a registry host in the repository moves there; vault-helm takes the
 * repository whole.
 */
export function imageValues(o: Pick<VaultChartOptions, "chartName" | "image">): Record<string, string> | undefined {
    if (!o.image) return undefined;
    const { repository, tag } = o.image;
    const first = repository.split("/")[0];
    const hasHost = repository.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
    if (o.chartName === "openbao" && hasHost) return { registry: first, repository: repository.slice(first.length + 1), tag };
    return { repository, tag };
}

/** OpenBao images (the openbao chart's default, or an explicit image) lack the file storage backend. */
export function isOpenBao(o: Pick<VaultChartOptions, "image" | "chartName">): boolean {
    return o.chartName === "openbao" || !!o.image?.repository.includes("openbao");
}

export function listenerHcl(o: VaultChartOptions): string {
    const tlsDir = `${chartPaths(o).userconfig}/${o.tlsSecretName}`;
    const tls = o.tlsSecretName
        ? [`  tls_cert_file = "${tlsDir}/tls.crt"`, `  tls_key_file = "${tlsDir}/tls.key"`, `  tls_client_ca_file = "${tlsDir}/ca.crt"`]
        : ["  tls_disable = 1"];
    // OpenBao >= 2.5.3 turns the unauthenticated sys/generate-root endpoints off by default; the
    // init/unseal provider needs them to recover a lost admin token with the unseal keys (HashiCorp
    // Vault has them on). Only the key quorum completes an attempt (README "Who holds what").
    const generateRoot = isOpenBao(o) ? ["  disable_unauthed_generate_root_endpoints = false"] : [];
    return ['listener "tcp" {', '  address = "[::]:8200"', '  cluster_address = "[::]:8201"', ...tls, ...generateRoot, "}"].join("\n");
}

/** OpenBao's declarative audit device (2.x refuses `PUT sys/audit/...`), logging to the pod's stdout. */
export function auditHcl(filePath = "/dev/stdout"): string {
    return ['audit "file" "stdout" {', "  options {", `    file_path = "${filePath}"`, "  }", "}"].join("\n");
}

/** Server HCL: file storage for standalone, integrated raft with retry_join to every peer for HA. */
export function serverHcl(o: VaultChartOptions): string {
    const lines = [`ui = ${o.ui}`, "", listenerHcl(o), ""];
    const dataPath = chartPaths(o).data;
    if (o.audit && isOpenBao(o)) lines.push(auditHcl(), "");
    const seal = sealHcl(o.seal);
    if (seal) lines.push(seal, "");
    if (!o.ha && !isOpenBao(o)) {
        lines.push('storage "file" {', `  path = "${dataPath}"`, "}");
    } else if (!o.ha) {
        // OpenBao 2.x dropped the file backend: a single-node raft does the same job.
        lines.push('storage "raft" {', `  path = "${dataPath}"`, `  node_id = "${o.releaseName}-0"`, "}");
    } else {
        const scheme = vaultScheme(o);
        lines.push('storage "raft" {', `  path = "${dataPath}"`);
        for (let i = 0; i < o.replicas; i++) {
            lines.push("  retry_join {", `    leader_api_addr = "${scheme}://${o.releaseName}-${i}.${o.releaseName}-internal:8200"`);
            if (o.tlsSecretName) lines.push(`    leader_ca_cert_file = "${chartPaths(o).userconfig}/${o.tlsSecretName}/ca.crt"`);
            lines.push("  }");
        }
        lines.push("}", "", 'service_registration "kubernetes" {}');
    }
    return lines.join("\n") + "\n";
}

export function vaultChartValues(o: VaultChartOptions): Record<string, unknown> {
    const server: Record<string, unknown> = {
        serviceAccount: { create: true, name: o.serviceAccount },
        // Probed every 2 s: a restarted pod that unseals itself (auto-unseal) serves again within seconds,
        // and a sealed one leaves the Service after two failed probes.
        readinessProbe: { enabled: true, path: READINESS_PATH, initialDelaySeconds: 2, periodSeconds: 2 },
        statefulSet: { annotations: SKIP_AWAIT },
        dataStorage: { enabled: true, size: o.storageSize },
        standalone: { enabled: !o.ha, config: o.ha ? "" : serverHcl(o) },
        ha: o.ha
            ? { enabled: true, replicas: o.replicas, raft: { enabled: true, setNodeId: true, config: serverHcl(o) } }
            : { enabled: false },
        // The UI and API stay inside the cluster; reach them with a port-forward (README). ESO reaches
        // Vault through this Service: only Ready (unsealed) pods, so a restarting or sealed pod gets no
        // requests. Not awaited: its pods become Ready only through the init/unseal step (raft peers
        // find each other through the headless vault-internal Service, which still lists every pod).
        service: { type: "ClusterIP", publishNotReadyAddresses: false, annotations: SKIP_AWAIT },
        ingress: { enabled: false },
    };
    // The openbao chart starts HA pods one by one (OrderedReady): pod 1 would wait for pod 0 to be
    // Ready, i.e. unsealed, while the init/unseal step waits for every pod. vault-helm always starts
    // them in parallel; ask the openbao chart for the same.
    if (o.ha && o.chartName === "openbao") server.podManagementPolicy = "Parallel";
    if (o.ha && o.podAntiAffinity === "preferred") {
        const selector = { matchLabels: { "app.kubernetes.io/name": o.chartName ?? "vault", "app.kubernetes.io/instance": o.releaseName, component: "server" } };
        server.affinity = {
            podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: selector, topologyKey: "kubernetes.io/hostname" } }] },
        };
    }
    const image = imageValues(o);
    if (image) server.image = image;
    const extraVolumes: { type: "secret"; name: string }[] = [];
    let extraEnvironmentVars: Record<string, string> = {};
    if (o.tlsSecretName) {
        extraVolumes.push({ type: "secret", name: o.tlsSecretName });
        // The CLI inside the pod (the openbao chart's readiness `bao status`) verifies with this CA.
        const caVar = o.chartName === "openbao" ? "BAO_CACERT" : "VAULT_CACERT";
        extraEnvironmentVars[caVar] = `${chartPaths(o).userconfig}/${o.tlsSecretName}/ca.crt`;
    }
    const seal = sealServerValues(o.seal, { chartName: o.chartName, userconfig: chartPaths(o).userconfig });
    extraVolumes.push(...(seal.extraVolumes ?? []));
    extraEnvironmentVars = { ...extraEnvironmentVars, ...seal.extraEnvironmentVars };
    if (extraVolumes.length) server.extraVolumes = extraVolumes;
    if (Object.keys(extraEnvironmentVars).length) server.extraEnvironmentVars = extraEnvironmentVars;
    if (seal.extraSecretEnvironmentVars) server.extraSecretEnvironmentVars = seal.extraSecretEnvironmentVars;
    if (seal.serviceAccountAnnotations) server.serviceAccount = { ...(server.serviceAccount as object), annotations: seal.serviceAccountAnnotations };
    return {
        global: { tlsDisable: !o.tlsSecretName },
        injector: { enabled: o.injector },
        ui: { enabled: o.ui, serviceType: "ClusterIP" },
        server,
    };
}

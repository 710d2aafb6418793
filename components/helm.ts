import * as k8s from "@pulumi/kubernetes";
import type { ChartSource } from "./config";

/** Chart args for a repository chart or a local chart directory (air-gapped installs). */
export function chartSource(source: ChartSource): Pick<k8s.helm.v4.ChartArgs, "chart" | "version" | "repositoryOpts"> {
    if (source.path) return { chart: source.path };
    return { chart: source.name, version: source.version, repositoryOpts: { repo: source.repo } };
}

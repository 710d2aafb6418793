// The private registry the demo Deployment pulls from: distribution v3 with htpasswd basic auth on
// the node IP, storage in the data dir. Credentials are the stack's registryUsername/registryPassword.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { paths, toolPath } from "./base.mjs";
import { NET } from "./network.mjs";
import { startDaemon } from "./process.mjs";

export const registryHost = (st) => `${NET.nodeIp}:${st.registryPort}`;

export function startRegistry(dir, st, { username, password }) {
    const p = paths(dir);
    const root = path.join(p.dir, "registry");
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    // The password goes to the helper on stdin, never on a command line.
    const line = execFileSync(toolPath("registry-htpasswd"), [username], { input: `${password}\n`, encoding: "utf8" });
    fs.writeFileSync(path.join(root, "htpasswd"), line, { mode: 0o600 });
    const config = path.join(root, "config.yml");
    fs.writeFileSync(
        config,
        `version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: "${path.join(root, "data")}"}
  delete: {enabled: true}
http:
  addr: ${registryHost(st)}
  debug: {addr: ""}
auth:
  htpasswd: {realm: vault-eso-platform, path: "${path.join(root, "htpasswd")}"}
`,
    );
    startDaemon(dir, "registry", toolPath("registry"), ["serve", config], { env: { ...process.env, OTEL_TRACES_EXPORTER: "none" } });
    return `http://${registryHost(st)}`;
}

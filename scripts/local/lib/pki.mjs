// PKI of the local control plane (openssl) and the admin kubeconfig.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { paths } from "./base.mjs";

function openssl(cwd, args) {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** CA, apiserver serving cert (127.0.0.1/localhost + `extraIps`), admin client cert (system:masters), SA key pair. */
export function makePki(dir, { extraIps = [] } = {}) {
    const c = paths(dir).certs;
    fs.mkdirSync(c, { recursive: true, mode: 0o700 });
    openssl(c, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=vault-eso-local-ca", "-keyout", "ca.key", "-out", "ca.crt"]);
    const sans = ["IP:127.0.0.1", "IP:10.0.0.1", ...extraIps.map((ip) => `IP:${ip}`), "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc"];
    makeCert(dir, "apiserver", "/CN=kube-apiserver", { sans: sans.join(","), usage: "serverAuth" });
    makeCert(dir, "admin", "/O=system:masters/CN=local-admin");
    openssl(c, ["genrsa", "-out", "sa.key", "2048"]);
    openssl(c, ["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
}

export function writeAdminKubeconfig(dir, server) {
    return writeKubeconfig(dir, paths(dir).kubeconfig, server, "admin");
}


/** A certificate signed by the local CA: `<name>.crt`/`.key` in certs/ (clientAuth, or serverAuth with `sans`). */
export function makeCert(dir, name, subject, { sans, usage = "clientAuth" } = {}) {
    const c = paths(dir).certs;
    openssl(c, ["req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", `${name}.key`, "-out", `${name}.csr`]);
    fs.writeFileSync(path.join(c, `${name}.ext`), `${sans ? `subjectAltName=${sans}\n` : ""}extendedKeyUsage=${usage}\n`);
    openssl(c, ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30", "-extfile", `${name}.ext`, "-out", `${name}.crt`]);
    return { cert: path.join(c, `${name}.crt`), key: path.join(c, `${name}.key`) };
}

/** A client cert for one component identity and its kubeconfig (`<data dir>/kubeconfig-<name>`). */
export function componentKubeconfig(dir, name, subject, server) {
    makeCert(dir, name, subject);
    return writeKubeconfig(dir, path.join(paths(dir).dir, `kubeconfig-${name}`), server, name);
}

/** A kubeconfig for one component identity (client cert `name`) against `server`. */
export function writeKubeconfig(dir, file, server, name) {
    const c = paths(dir).certs;
    fs.writeFileSync(
        file,
        `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "${server}", certificate-authority: "${c}/ca.crt"}
users:
- name: ${name}
  user: {client-certificate: "${c}/${name}.crt", client-key: "${c}/${name}.key"}
contexts:
- name: local
  context: {cluster: local, user: ${name}}
current-context: local
`,
        { mode: 0o600 },
    );
    return file;
}

// PKI of the local control plane (openssl) and the admin kubeconfig.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { paths } from "./base.mjs";

function openssl(cwd, args) {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** CA, apiserver serving cert (127.0.0.1/localhost), admin client cert (system:masters), SA key pair. */
export function makePki(dir) {
    const c = paths(dir).certs;
    fs.mkdirSync(c, { recursive: true, mode: 0o700 });
    openssl(c, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=vault-eso-local-ca", "-keyout", "ca.key", "-out", "ca.crt"]);
    openssl(c, ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver", "-keyout", "apiserver.key", "-out", "apiserver.csr"]);
    fs.writeFileSync(
        path.join(c, "apiserver.ext"),
        "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n",
    );
    openssl(c, ["x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30", "-extfile", "apiserver.ext", "-out", "apiserver.crt"]);
    openssl(c, ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/O=system:masters/CN=local-admin", "-keyout", "admin.key", "-out", "admin.csr"]);
    fs.writeFileSync(path.join(c, "admin.ext"), "extendedKeyUsage=clientAuth\n");
    openssl(c, ["x509", "-req", "-in", "admin.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30", "-extfile", "admin.ext", "-out", "admin.crt"]);
    openssl(c, ["genrsa", "-out", "sa.key", "2048"]);
    openssl(c, ["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
}

export function writeAdminKubeconfig(dir, server) {
    const c = paths(dir).certs;
    const kc = `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "${server}", certificate-authority: "${c}/ca.crt"}
users:
- name: admin
  user: {client-certificate: "${c}/admin.crt", client-key: "${c}/admin.key"}
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
`;
    fs.writeFileSync(paths(dir).kubeconfig, kc, { mode: 0o600 });
}


// Minimal Kubernetes API client for assertions and setup (no kubectl).
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { paths, readState } from "./base.mjs";

/** Minimal Kubernetes API client: admin client cert, or a bearer token. */
export class Kube {
    constructor({ server, ca, cert, key, token }) {
        const u = new URL(server);
        this.host = u.hostname;
        this.port = Number(u.port);
        this.agent = new https.Agent({ ca, cert, key, keepAlive: false });
        this.bearer = token;
    }

    static admin(dir) {
        const c = paths(dir).certs;
        const st = readState(dir);
        return new Kube({
            server: `https://${st.apiHost ?? "127.0.0.1"}:${st.apiPort}`,
            ca: fs.readFileSync(path.join(c, "ca.crt")),
            cert: fs.readFileSync(path.join(c, "admin.crt")),
            key: fs.readFileSync(path.join(c, "admin.key")),
        });
    }

    /** The same API server and CA, authenticated with a bearer token instead (e.g. a service account's). */
    withToken(token) {
        const k = Object.create(Kube.prototype);
        Object.assign(k, this, { bearer: token, agent: new https.Agent({ ca: this.agent.options.ca, keepAlive: false }) });
        return k;
    }

    request(method, p, body, { contentType = "application/json", timeoutMs = 15000 } = {}) {
        return new Promise((resolve, reject) => {
            const headers = { Accept: "application/json" };
            if (this.bearer) headers.Authorization = `Bearer ${this.bearer}`;
            let data;
            if (body !== undefined) {
                data = typeof body === "string" ? body : JSON.stringify(body);
                headers["Content-Type"] = contentType;
                headers["Content-Length"] = Buffer.byteLength(data);
            }
            const req = https.request({ host: this.host, port: this.port, method, path: p, headers, agent: this.agent, timeout: timeoutMs }, (res) => {
                const chunks = [];
                res.on("data", (c) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let json;
                    try {
                        json = text ? JSON.parse(text) : undefined;
                    } catch {
                        json = undefined;
                    }
                    resolve({ status: res.statusCode, json, text });
                });
            });
            req.on("timeout", () => req.destroy(new Error(`${method} ${p}: timeout`)));
            req.on("error", reject);
            if (data !== undefined) req.write(data);
            req.end();
        });
    }

    async get(p) {
        return this.request("GET", p);
    }

    /** TokenRequest for a service account; returns the JWT (never logged). */
    async token(namespace, sa, { audiences, expirationSeconds = 3600 } = {}) {
        const r = await this.request("POST", `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}/token`, {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: { audiences, expirationSeconds },
        });
        if (r.status !== 201 && r.status !== 200) throw new Error(`TokenRequest ${namespace}/${sa}: HTTP ${r.status} ${r.json?.message ?? ""}`);
        return r.json.status.token;
    }
}


// Container images for the cluster tier, written by hand as OCI layouts (no registry is reachable
// here): one uncompressed tar layer, a config, a manifest, index.json. Imported into containerd
// with `ctr images import`, or pushed to the local registry (pushImage).
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const sha256 = (buf) => `sha256:${createHash("sha256").update(buf).digest("hex")}`;

/**
 * files: [{ path: "bin/busybox", from: "/abs/file" }, { path: "x.sh", content: "...", mode: 0o755 },
 *         { path: "bin/sh", symlink: "busybox" }, { path: "tmp", dir: true, mode: 0o1777 }]
 * Returns the layout dir and the blobs (for pushImage).
 */
export function buildImage(workDir, { name, files, entrypoint, cmd, env = [], user, workingDir }) {
    const id = name.replace(/[^a-zA-Z0-9]+/g, "-");
    const stage = path.join(workDir, `${id}.rootfs`);
    const layout = path.join(workDir, `${id}.oci`);
    fs.rmSync(stage, { recursive: true, force: true });
    fs.rmSync(layout, { recursive: true, force: true });
    fs.mkdirSync(stage, { recursive: true });
    for (const f of files) {
        const dst = path.join(stage, f.path);
        if (f.dir) {
            fs.mkdirSync(dst, { recursive: true });
            if (f.mode !== undefined) fs.chmodSync(dst, f.mode);
            continue;
        }
        fs.mkdirSync(path.dirname(dst), { recursive: true });
        if (f.symlink) fs.symlinkSync(f.symlink, dst);
        else if (f.from) fs.copyFileSync(f.from, dst);
        else fs.writeFileSync(dst, f.content);
        if (!f.symlink) fs.chmodSync(dst, f.mode ?? (f.from ? 0o755 : 0o644));
    }
    // Reproducible: fixed order, owner and mtime, so an unchanged input gives the same digest.
    const layerTar = path.join(workDir, `${id}.layer.tar`);
    execFileSync("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-C", stage, "-cf", layerTar, "."]);
    const layer = fs.readFileSync(layerTar);
    const layerDigest = sha256(layer);
    const config = Buffer.from(
        JSON.stringify({
            architecture: "amd64",
            os: "linux",
            config: { Entrypoint: entrypoint, Cmd: cmd, Env: ["PATH=/usr/local/bin:/usr/bin:/bin", ...env], User: user, WorkingDir: workingDir },
            rootfs: { type: "layers", diff_ids: [layerDigest] },
        }),
    );
    const manifest = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(config), size: config.length },
            layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: layer.length }],
        }),
    );
    const blobs = path.join(layout, "blobs", "sha256");
    fs.mkdirSync(blobs, { recursive: true });
    for (const b of [layer, config, manifest]) fs.writeFileSync(path.join(blobs, sha256(b).slice(7)), b);
    const tag = name.slice(name.lastIndexOf(":") + 1);
    fs.writeFileSync(path.join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    fs.writeFileSync(
        path.join(layout, "index.json"),
        JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.index.v1+json",
            manifests: [
                {
                    mediaType: "application/vnd.oci.image.manifest.v1+json",
                    digest: sha256(manifest),
                    size: manifest.length,
                    platform: { architecture: "amd64", os: "linux" },
                    annotations: { "io.containerd.image.name": name, "org.opencontainers.image.ref.name": tag },
                },
            ],
        }),
    );
    fs.rmSync(stage, { recursive: true, force: true });
    fs.rmSync(layerTar, { force: true });
    return { name, layout, digest: sha256(manifest), blobs: { layer, config, manifest } };
}

/** Busybox as /bin/busybox plus one symlink per applet (sh, sed, cp, sleep, httpd, ...). */
export function busyboxFiles(busybox) {
    const applets = execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a && a !== "busybox");
    return [
        { path: "bin/busybox", from: busybox },
        ...applets.map((a) => ({ path: `bin/${a}`, symlink: "busybox" })),
        { path: "tmp", dir: true, mode: 0o1777 },
        { path: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\nvault:x:100:1000:vault:/home/vault:/bin/sh\nopenbao:x:100:1000:openbao:/home/openbao:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n" },
        { path: "etc/group", content: "root:x:0:\nvault:x:1000:vault\nopenbao:x:1000:openbao\nnobody:x:65534:\n" },
    ];
}

/** Imports an OCI layout into containerd's k8s.io namespace, pinned so the kubelet's image GC keeps it. */
export function importImage(ctr, address, image, workDir) {
    const archive = path.join(workDir, `${path.basename(image.layout)}.tar`);
    execFileSync("tar", ["-C", image.layout, "-cf", archive, "."]);
    try {
        execFileSync(ctr, ["--address", address, "-n", "k8s.io", "images", "import", "--no-unpack", "--local", archive], { stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
        // Older ctr has no --local; the default (transfer service) path does the same.
        if (!String(e.stderr).includes("flag provided but not defined")) throw new Error(`ctr images import ${image.name}: ${String(e.stderr || e.message).trim()}`);
        execFileSync(ctr, ["--address", address, "-n", "k8s.io", "images", "import", archive], { stdio: ["ignore", "pipe", "pipe"] });
    }
    execFileSync(ctr, ["--address", address, "-n", "k8s.io", "images", "label", image.name, "io.cri-containerd.pinned=pinned"], { stdio: ["ignore", "pipe", "pipe"] });
    fs.rmSync(archive, { force: true });
}

/** Pushes an image to a registry (OCI distribution API, basic auth). */
export async function pushImage(registry, repo, tag, image, { username, password }) {
    const auth = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    for (const blob of [image.blobs.layer, image.blobs.config]) {
        const digest = sha256(blob);
        const head = await fetch(`${registry}/v2/${repo}/blobs/${digest}`, { method: "HEAD", headers: { Authorization: auth } });
        if (head.status === 200) continue;
        const start = await fetch(`${registry}/v2/${repo}/blobs/uploads/`, { method: "POST", headers: { Authorization: auth } });
        if (start.status !== 202) throw new Error(`registry upload start ${repo}: HTTP ${start.status} ${await start.text()}`);
        const loc = new URL(start.headers.get("location"), registry);
        loc.searchParams.set("digest", digest);
        const put = await fetch(loc, { method: "PUT", headers: { Authorization: auth, "Content-Type": "application/octet-stream" }, body: blob });
        if (put.status !== 201) throw new Error(`registry blob upload ${repo}: HTTP ${put.status} ${await put.text()}`);
    }
    const r = await fetch(`${registry}/v2/${repo}/manifests/${tag}`, {
        method: "PUT",
        headers: { Authorization: auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
        body: image.blobs.manifest,
    });
    if (r.status !== 201) throw new Error(`registry manifest ${repo}:${tag}: HTTP ${r.status} ${await r.text()}`);
}

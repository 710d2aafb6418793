/**
 * Vault policy HCL rendered from what the program declares. ESO gets `read` on exactly the KV v2
 * entries its ExternalSecrets reference: `<mount>/data/<path>` for values and
 * `<mount>/metadata/<path>` for versions/metadata, nothing else (the guide granted read on "*").
 */
export interface KvReadGrant {
    /** KV v2 mount path, e.g. "kv". */
    mount: string;
    /** Entry path below the mount, e.g. "gitlab/credentials". */
    path: string;
}

export function renderKvReadPolicy(grants: KvReadGrant[]): string {
    const paths = new Set<string>();
    for (const g of grants) {
        if (/[*+]/.test(g.mount + g.path)) throw new Error(`refusing to render a wildcard path: ${g.mount}/${g.path}`);
        paths.add(`${g.mount}/data/${g.path}`);
        paths.add(`${g.mount}/metadata/${g.path}`);
    }
    if (paths.size === 0) throw new Error("no KV paths declared: an empty read policy would be useless");
    return [...paths]
        .sort()
        .map((p) => `path "${p}" {\n  capabilities = ["read"]\n}\n`)
        .join("\n");
}

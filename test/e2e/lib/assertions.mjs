// Assertions shared by the e2e tiers (run.mjs: engine; cluster.mjs: cluster). Messages name what
// differs, never a secret value.

export function assert(cond, msg) {
    if (!cond) throw new Error(msg);
}
export function eq(actual, expected, what) {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

export function condition(obj, type) {
    return (obj?.status?.conditions ?? []).find((c) => c.type === type);
}

export function decodeData(secret) {
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}

/** JSON with object keys sorted, so key order never counts as a difference. */
export function canonical(v) {
    if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
    if (v && typeof v === "object") return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
    return JSON.stringify(v);
}

export function secretsAbsent(text, secrets, where) {
    for (const [label, value] of secrets) {
        if (!value) throw new Error(`could not obtain ${label} to compare`);
        assert(!text.includes(value), `${where} contains the plaintext ${label}`);
        const b64 = Buffer.from(value).toString("base64");
        assert(!text.includes(b64), `${where} contains the base64 ${label}`);
    }
}

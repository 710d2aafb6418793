// A small parser for Vault policy documents: HCL `path "<glob>" { capabilities = [...] }`
// blocks, plus the JSON form Vault also accepts. It reads only what least-privilege rules need.

export interface PathRule {
    path: string;
    capabilities: string[];
    /** 1-based line of the `path` keyword (0 for JSON documents). */
    line: number;
    /** `allowed_parameters` / `denied_parameters`, as written (parameter -> allowed or denied values). */
    allowedParameters?: Record<string, unknown>;
    deniedParameters?: Record<string, unknown>;
}

export class PolicyParseError extends Error {}

type Token = { kind: "ident" | "string" | "number" | "punct"; text: string; line: number };

function tokenize(src: string): Token[] {
    const tokens: Token[] = [];
    let i = 0;
    let line = 1;
    while (i < src.length) {
        const c = src[i];
        if (c === "\n") {
            line++;
            i++;
        } else if (/\s/.test(c)) {
            i++;
        } else if (c === "#" || (c === "/" && src[i + 1] === "/")) {
            while (i < src.length && src[i] !== "\n") {
                i++;
            }
        } else if (c === "/" && src[i + 1] === "*") {
            const end = src.indexOf("*/", i + 2);
            if (end < 0) {
                throw new PolicyParseError(`unterminated comment at line ${line}`);
            }
            line += (src.slice(i, end).match(/\n/g) ?? []).length;
            i = end + 2;
        } else if (c === '"') {
            const start = line;
            let text = "";
            i++;
            while (i < src.length && src[i] !== '"') {
                if (src[i] === "\n") {
                    throw new PolicyParseError(`unterminated string at line ${start}`);
                }
                if (src[i] === "\\" && i + 1 < src.length) {
                    i++;
                }
                text += src[i++];
            }
            if (i >= src.length) {
                throw new PolicyParseError(`unterminated string at line ${start}`);
            }
            i++;
            tokens.push({ kind: "string", text, line: start });
        } else if ("{}[]=,:".includes(c)) {
            tokens.push({ kind: "punct", text: c, line });
            i++;
        } else if (/[A-Za-z_]/.test(c)) {
            const m = /^[A-Za-z_][\w-]*/.exec(src.slice(i))!;
            tokens.push({ kind: "ident", text: m[0], line });
            i += m[0].length;
        } else if (/[\d-]/.test(c)) {
            const m = /^-?[\d.]+[a-z]*/.exec(src.slice(i));
            if (!m) {
                throw new PolicyParseError(`unexpected "${c}" at line ${line}`);
            }
            tokens.push({ kind: "number", text: m[0], line });
            i += m[0].length;
        } else {
            throw new PolicyParseError(`unexpected "${c}" at line ${line}`);
        }
    }
    return tokens;
}

class Parser {
    private pos = 0;
    constructor(private readonly tokens: Token[]) {}

    parseDocument(): PathRule[] {
        const rules: PathRule[] = [];
        while (!this.done()) {
            const key = this.next();
            if (key.kind !== "ident" && key.kind !== "string") {
                throw this.error(key, "a block name");
            }
            if (key.text === "path" && this.peek()?.kind === "string") {
                const path = this.next().text;
                this.skipOptional("=");
                const body = this.parseObject();
                rules.push({ path, capabilities: capabilitiesOf(body), line: key.line, ...parametersOf(body) });
            } else {
                // Unknown top-level attribute or block (e.g. `name = "x"`): skip its value.
                this.skipOptional("=");
                this.parseValue();
            }
        }
        return rules;
    }

    private parseValue(): unknown {
        const t = this.peek();
        if (!t) {
            throw new PolicyParseError("unexpected end of policy");
        }
        if (t.text === "{" && t.kind === "punct") {
            return this.parseObject();
        }
        if (t.text === "[" && t.kind === "punct") {
            return this.parseList();
        }
        this.pos++;
        if (t.kind === "punct") {
            throw this.error(t, "a value");
        }
        return t.text;
    }

    private parseObject(): Record<string, unknown> {
        this.expect("{");
        const out: Record<string, unknown> = {};
        while (this.peek()?.text !== "}") {
            const key = this.next();
            if (key.kind !== "ident" && key.kind !== "string") {
                throw this.error(key, "an attribute name");
            }
            // HCL allows `key = value`, `key: value` (JSON-ish) and nested `key { ... }` blocks.
            if (this.peek()?.text === "=" || this.peek()?.text === ":") {
                this.pos++;
            }
            out[key.text] = this.parseValue();
            this.skipOptional(",");
        }
        this.expect("}");
        return out;
    }

    private parseList(): unknown[] {
        this.expect("[");
        const out: unknown[] = [];
        while (this.peek()?.text !== "]") {
            out.push(this.parseValue());
            this.skipOptional(",");
        }
        this.expect("]");
        return out;
    }

    private done(): boolean {
        return this.pos >= this.tokens.length;
    }
    private peek(): Token | undefined {
        return this.tokens[this.pos];
    }
    private next(): Token {
        const t = this.tokens[this.pos++];
        if (!t) {
            throw new PolicyParseError("unexpected end of policy");
        }
        return t;
    }
    private expect(text: string): void {
        const t = this.next();
        if (t.kind !== "punct" || t.text !== text) {
            throw this.error(t, `"${text}"`);
        }
    }
    private skipOptional(text: string): void {
        if (this.peek()?.kind === "punct" && this.peek()?.text === text) {
            this.pos++;
        }
    }
    private error(t: Token, wanted: string): PolicyParseError {
        return new PolicyParseError(`expected ${wanted} but found "${t.text}" at line ${t.line}`);
    }
}

function capabilitiesOf(body: Record<string, unknown>): string[] {
    const caps = body["capabilities"];
    if (caps === undefined) {
        return [];
    }
    if (!Array.isArray(caps) || caps.some((c) => typeof c !== "string")) {
        throw new PolicyParseError("capabilities must be a list of strings");
    }
    return (caps as string[]).map((c) => c.toLowerCase());
}

function parametersOf(body: Record<string, unknown>): Pick<PathRule, "allowedParameters" | "deniedParameters"> {
    const out: Pick<PathRule, "allowedParameters" | "deniedParameters"> = {};
    for (const [key, field] of [["allowed_parameters", "allowedParameters"], ["denied_parameters", "deniedParameters"]] as const) {
        const v = body[key];
        if (v === undefined) continue;
        if (typeof v !== "object" || v === null || Array.isArray(v)) throw new PolicyParseError(`${key} must be an object`);
        out[field] = v as Record<string, unknown>;
    }
    return out;
}

function parseJsonPolicy(src: string): PathRule[] {
    let doc: unknown;
    try {
        doc = JSON.parse(src);
    } catch (e) {
        throw new PolicyParseError(`invalid JSON policy: ${(e as Error).message}`);
    }
    const paths = (doc as { path?: unknown }).path;
    if (paths === undefined) {
        return [];
    }
    if (typeof paths !== "object" || paths === null) {
        throw new PolicyParseError(`"path" must be an object`);
    }
    return Object.entries(paths).map(([path, body]) => ({
        path,
        capabilities: capabilitiesOf((body ?? {}) as Record<string, unknown>),
        line: 0,
        ...parametersOf((body ?? {}) as Record<string, unknown>),
    }));
}

/** Parses a Vault policy; throws PolicyParseError when it is not valid HCL/JSON. */
export function parseVaultPolicy(src: string): PathRule[] {
    return src.trimStart().startsWith("{") ? parseJsonPolicy(src) : new Parser(tokenize(src)).parseDocument();
}

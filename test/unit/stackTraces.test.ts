// The program's stack-trace formatter (components/stackTraces.ts): only this project's own TypeScript
// frames go through the source-map formatter it wraps; every other frame prints as V8 prints it.
import * as path from "node:path";
import { MAPPED_FRAMES_KEPT, isOwnTypeScript, selectiveFormatter } from "../../components/stackTraces";

const root = path.resolve(__dirname, "..", "..");

/** Real V8 call sites of a call made from this file through a JavaScript frame of node_modules. */
function callSites(): NodeJS.CallSite[] {
    const saved = Error.prepareStackTrace;
    try {
        Error.prepareStackTrace = (_e, frames) => frames;
        // Array.prototype.map is native; a node_modules frame comes from Jest itself further down.
        return [0].map(() => new Error("probe").stack as unknown as NodeJS.CallSite[])[0];
    } finally {
        Error.prepareStackTrace = saved;
    }
}

describe("isOwnTypeScript", () => {
    test.each([
        [path.join(root, "index.ts"), true],
        [path.join(root, "components", "tenants", "tenant.ts"), true],
        [path.join(root, "node_modules", "@pulumi", "pulumi", "resource.js"), false],
        [path.join(root, "node_modules", "some-package", "index.ts"), false],
        [path.join(root, "components", "vault", "init", "tunnel-host.js"), false],
        ["/elsewhere/index.ts", false],
        [`${root}-other/index.ts`, false],
        ["node:internal/process/task_queues", false],
        [null, false],
        [undefined, false],
    ])("%s -> %s", (file, own) => {
        expect(isOwnTypeScript(file)).toBe(own);
    });
});

describe("selectiveFormatter", () => {
    const frames = callSites();
    const calls: NodeJS.CallSite[][] = [];
    const mapped = (_e: Error, fs: NodeJS.CallSite[]) => {
        calls.push(fs);
        return `Error: ignored\n    at MAPPED (${fs[0].getFileName()}:1:1)`;
    };
    const text = selectiveFormatter(mapped)(new TypeError("boom"), frames) as string;
    const lines = text.split("\n");

    test("the sample has both kinds of frames", () => {
        expect(frames.some((f) => isOwnTypeScript(f.getFileName()))).toBe(true);
        expect(frames.some((f) => !isOwnTypeScript(f.getFileName()))).toBe(true);
    });

    test("keeps V8's header and one line per frame", () => {
        expect(lines[0]).toBe("TypeError: boom");
        expect(lines).toHaveLength(frames.length + 1);
    });

    test("maps exactly the own TypeScript frames, one at a time", () => {
        const own = frames.filter((f) => isOwnTypeScript(f.getFileName()));
        expect(calls).toHaveLength(own.length);
        expect(calls.every((c) => c.length === 1)).toBe(true);
        frames.forEach((f, i) => {
            if (isOwnTypeScript(f.getFileName())) expect(lines[i + 1]).toBe(`    at MAPPED (${f.getFileName()}:1:1)`);
            else expect(lines[i + 1]).toBe(`    at ${f}`);
        });
    });

    test("a mapped result without a frame line falls back to V8's", () => {
        const own = frames.find((f) => isOwnTypeScript(f.getFileName()))!;
        const out = selectiveFormatter(() => "Error: nothing")(new Error("x"), [own]) as string;
        expect(out).toBe(`Error: x\n    at ${own}`);
    });
});

describe("selectiveFormatter: each own call site is mapped once", () => {
    /** A stand-in call site in this project's index.ts, printed by V8 as `text`. */
    const site = (text: string) => ({ getFileName: () => path.join(root, "index.ts"), toString: () => text }) as unknown as NodeJS.CallSite;
    const counting = () => {
        const seen: string[] = [];
        const mapped = (_e: Error, fs: NodeJS.CallSite[]) => {
            seen.push(`${fs[0]}`);
            return `Error: ignored\n    at MAPPED ${fs[0]}`;
        };
        return { seen, format: selectiveFormatter(mapped) };
    };

    test("a call site seen before is not mapped again, whatever the error", () => {
        const { seen, format } = counting();
        const a = site("new Tenant (index.ts:10:5)");
        const b = site("declare (index.ts:20:7)");
        const first = format(new Error("one"), [a, b]);
        const second = format(new RangeError("two"), [b, a, site("new Tenant (index.ts:10:5)")]);
        expect(seen).toEqual(["new Tenant (index.ts:10:5)", "declare (index.ts:20:7)"]);
        expect(first).toBe("Error: one\n    at MAPPED new Tenant (index.ts:10:5)\n    at MAPPED declare (index.ts:20:7)");
        expect(second).toBe("RangeError: two\n    at MAPPED declare (index.ts:20:7)\n    at MAPPED new Tenant (index.ts:10:5)\n    at MAPPED new Tenant (index.ts:10:5)");
    });

    test("the same file and line at another column or in another function is mapped on its own", () => {
        const { seen, format } = counting();
        format(new Error("x"), [site("f (index.ts:10:5)"), site("f (index.ts:10:9)"), site("g (index.ts:10:5)")]);
        expect(seen).toHaveLength(3);
    });

    test("formatters do not share what they remember", () => {
        const one = counting();
        const two = counting();
        one.format(new Error("x"), [site("f (index.ts:1:1)")]);
        two.format(new Error("x"), [site("f (index.ts:1:1)")]);
        expect([one.seen.length, two.seen.length]).toEqual([1, 1]);
    });

    test(`past ${MAPPED_FRAMES_KEPT} distinct call sites it starts over (bounded memory)`, () => {
        const { seen, format } = counting();
        for (let i = 0; i < MAPPED_FRAMES_KEPT; i++) format(new Error("x"), [site(`f (index.ts:${i}:1)`)]);
        format(new Error("x"), [site("f (index.ts:0:1)")]);
        expect(seen).toHaveLength(MAPPED_FRAMES_KEPT);
        format(new Error("x"), [site("f (index.ts:new:1)")]);
        format(new Error("x"), [site("f (index.ts:0:1)")]);
        expect(seen).toHaveLength(MAPPED_FRAMES_KEPT + 2);
    });
});

describe("installing", () => {
    const saved = Error.prepareStackTrace;
    afterEach(() => {
        Error.prepareStackTrace = saved;
    });
    const load = () => jest.isolateModules(() => require("../../components/stackTraces"));

    test("wraps the installed formatter once, however often the module loads", () => {
        const tsNode = jest.fn<string, [Error, NodeJS.CallSite[]]>(() => "Error: x\n    at MAPPED (f.ts:1:1)");
        Error.prepareStackTrace = tsNode;
        load();
        const first = Error.prepareStackTrace;
        expect(first).not.toBe(tsNode);
        expect((first as unknown as { selective?: boolean }).selective).toBe(true);
        load();
        expect(Error.prepareStackTrace).toBe(first);
        // Through the wrapper: a frame of this file reaches ts-node's formatter, alone.
        const stack = new Error("probe").stack!;
        expect(stack.split("\n")[0]).toBe("Error: probe");
        expect(tsNode).toHaveBeenCalled();
        expect(tsNode.mock.calls.every(([, frames]) => frames.length === 1)).toBe(true);
    });

    test("installs nothing where no formatter is", () => {
        Error.prepareStackTrace = undefined as unknown as typeof Error.prepareStackTrace;
        load();
        expect(Error.prepareStackTrace).toBeUndefined();
    });
});

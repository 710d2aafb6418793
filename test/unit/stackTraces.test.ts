// The program's stack-trace formatter (components/stackTraces.ts): only this project's own TypeScript
// frames go through the source-map formatter it wraps; every other frame prints as V8 prints it.
import * as path from "node:path";
import { isOwnTypeScript, selectiveFormatter } from "../../components/stackTraces";

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

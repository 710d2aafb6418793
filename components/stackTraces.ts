// Imported first by index.ts: cheaper stack traces for a program that registers thousands of resources.
//
// Pulumi's Node SDK reads `new Error().stack` several times per resource (its source position and
// registration stack, each awaited promise's debug context). Under ts-node every such read runs
// ts-node's source-map formatter over every frame, the SDK's and gRPC's JavaScript frames
// included: at 50 tenants (~2,000 resources) that was a third of the program's CPU in a no-op
// preview (docs/scale.md). This formatter maps only the frames in this project's own TypeScript
// files through ts-node's formatter, each call site once (the same few lines declare every
// resource), and formats every other frame as V8 does. Errors keep their
// TypeScript positions in this project; a dependency's frame now shows the JavaScript that runs
// (its line in node_modules) instead of its TypeScript source, which npm packages do not ship.
// The engine does not diff source positions: a deployed stack sees no change.
import * as path from "node:path";

type Formatter = (error: Error, frames: NodeJS.CallSite[]) => unknown;

const projectRoot = path.resolve(__dirname, "..") + path.sep;
const nodeModules = `${path.sep}node_modules${path.sep}`;

/** A frame in one of this project's TypeScript files (not a dependency's, not JavaScript). */
export function isOwnTypeScript(fileName: string | null | undefined): boolean {
    return !!fileName && fileName.endsWith(".ts") && fileName.startsWith(projectRoot) && !fileName.includes(nodeModules);
}

/** Own frames remembered per formatter: past this many distinct call sites, it starts over. */
export const MAPPED_FRAMES_KEPT = 4096;

/**
 * Wraps `mapped` (ts-node's source-map formatter): own TypeScript frames go through it one by one,
 * the rest print as V8 prints them. The header is V8's (`Error.prototype.toString`).
 *
 * A program declares its resources from a few dozen lines, each thousands of times: an own frame's
 * line is remembered by its V8 text (file, compiled line and column, function: all the mapping
 * depends on while the process runs), so each call site is mapped once.
 */
export function selectiveFormatter(mapped: Formatter): Formatter {
    const seen = new Map<string, string>();
    const mapOne = (error: Error, frame: NodeJS.CallSite): string => {
        const v8 = `${frame}`;
        const known = seen.get(v8);
        if (known !== undefined) return known;
        const one = String(mapped(error, [frame]));
        const at = one.indexOf("\n    at ");
        const line = at >= 0 ? one.slice(at) : `\n    at ${v8}`;
        if (seen.size >= MAPPED_FRAMES_KEPT) seen.clear();
        seen.set(v8, line);
        return line;
    };
    return (error, frames) => {
        let header: string;
        try {
            header = Error.prototype.toString.call(error);
        } catch {
            header = "Error";
        }
        const lines = frames.map((frame) => (isOwnTypeScript(frame.getFileName()) ? mapOne(error, frame) : `\n    at ${frame}`));
        return header + lines.join("");
    };
}

// Only where a formatter is installed (ts-node's under `pulumi`; Jest's in the unit tests), once.
const current = Error.prepareStackTrace as (Formatter & { selective?: true }) | undefined;
if (current && !current.selective) {
    const wrapped = Object.assign(selectiveFormatter(current), { selective: true as const });
    Error.prepareStackTrace = wrapped as typeof Error.prepareStackTrace;
}

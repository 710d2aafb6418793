// Imported first by index.ts: cheaper stack traces for a program that registers thousands of resources.
//
// Pulumi's Node SDK reads `new Error().stack` several times per resource (its source position and
// registration stack, each awaited promise's debug context). Under ts-node every such read runs
// ts-node's source-map formatter over every frame, the SDK's and gRPC's JavaScript frames
// included: at 50 tenants (~2,000 resources) that was a third of the program's CPU in a no-op
// preview (README "Scale"). This formatter maps only the frames in this project's own TypeScript
// files through ts-node's formatter, and formats every other frame as V8 does. Errors keep their
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

/**
 * Wraps `mapped` (ts-node's source-map formatter): own TypeScript frames go through it one by one,
 * the rest print as V8 prints them. The header is V8's (`Error.prototype.toString`).
 */
export function selectiveFormatter(mapped: Formatter): Formatter {
    return (error, frames) => {
        let header: string;
        try {
            header = Error.prototype.toString.call(error);
        } catch {
            header = "Error";
        }
        const lines = frames.map((frame) => {
            if (!isOwnTypeScript(frame.getFileName())) return `\n    at ${frame}`;
            const one = String(mapped(error, [frame]));
            const at = one.indexOf("\n    at ");
            return at >= 0 ? one.slice(at) : `\n    at ${frame}`;
        });
        return header + lines.join("");
    };
}

// Only where a formatter is installed (ts-node's under `pulumi`; Jest's in the unit tests), once.
const current = Error.prepareStackTrace as (Formatter & { selective?: true }) | undefined;
if (current && !current.selective) {
    const wrapped = Object.assign(selectiveFormatter(current), { selective: true as const });
    Error.prepareStackTrace = wrapped as typeof Error.prepareStackTrace;
}

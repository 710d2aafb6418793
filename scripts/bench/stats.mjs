// Summaries for `npm run bench -- --scale --runs K`: one size measured K times (the program and the
// bare program interleaved, so that the machine's drift hits both) is summarised per metric by the
// median of each program, their ratio, and the spread of the per-run ratios. A single run on this
// 2-core machine can be off by a third (docs/scale.md); the median of 3 is what the table shows.

/** The median of numbers (the mean of the middle two for an even count); NaN for none. */
export function median(xs) {
    const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    if (v.length === 0) return NaN;
    const mid = Math.floor(v.length / 2);
    return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * runs: [{ o: {metric: ms}, b: {metric: ms} }, ...] for one size. Returns per metric
 * { ours, bare, ratio, ratios: [per run], min, max } (ours and bare: medians; ratio: of the medians).
 */
export function summarise(runs, metrics) {
    if (runs.length === 0) throw new Error("no runs to summarise");
    const out = {};
    for (const m of metrics) {
        const ours = median(runs.map((r) => r.o[m]));
        const bare = median(runs.map((r) => r.b[m]));
        const ratios = runs.map((r) => r.o[m] / r.b[m]);
        out[m] = { ours, bare, ratio: ours / bare, ratios, min: Math.min(...ratios), max: Math.max(...ratios) };
    }
    return out;
}

/** "12.3s / 10.1s / **1.22x**", plus " (1.10-1.40x over 3 runs)" when there was more than one run. */
export function formatCell(c) {
    const s = (ms) => `${(ms / 1000).toFixed(1)}s`;
    const spread = c.ratios.length > 1 ? ` (${c.min.toFixed(2)}-${c.max.toFixed(2)}x over ${c.ratios.length} runs)` : "";
    return `${s(c.ours)} / ${s(c.bare)} / **${c.ratio.toFixed(2)}x**${spread}`;
}

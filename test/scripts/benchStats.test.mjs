// The bench's summaries (scripts/bench/stats.mjs): medians per program, the ratio of the medians, the
// spread of the per-run ratios, and the table cell they print.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatCell, median, summarise } from "../../scripts/bench/stats.mjs";

test("median: odd and even counts, unsorted input, non-numbers left out", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([5, NaN, 1, undefined, 3]), 3);
    assert.ok(Number.isNaN(median([])));
});

test("summarise: medians of each program, not the median of the ratios", () => {
    const runs = [
        { o: { first: 10000 }, b: { first: 10000 } },
        { o: { first: 30000 }, b: { first: 12000 } },
        { o: { first: 12000 }, b: { first: 20000 } },
    ];
    const c = summarise(runs, ["first"]).first;
    assert.equal(c.ours, 12000);
    assert.equal(c.bare, 12000);
    assert.equal(c.ratio, 1);
    assert.deepEqual(c.ratios, [1, 2.5, 0.6]);
    assert.equal(c.min, 0.6);
    assert.equal(c.max, 2.5);
});

test("summarise: refuses an empty list of runs", () => {
    assert.throws(() => summarise([], ["first"]), /no runs/);
});

test("formatCell: the spread only when there was more than one run", () => {
    const one = summarise([{ o: { noop: 1500 }, b: { noop: 1000 } }], ["noop"]).noop;
    assert.equal(formatCell(one), "1.5s / 1.0s / **1.50x**");
    const three = summarise([1, 2, 3].map((k) => ({ o: { noop: 1000 * k }, b: { noop: 1000 } })), ["noop"]).noop;
    assert.equal(formatCell(three), "2.0s / 1.0s / **2.00x** (1.00-3.00x over 3 runs)");
});

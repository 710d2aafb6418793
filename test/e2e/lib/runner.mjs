// The one check runner of the e2e tiers (run.mjs: engine; cluster.mjs: cluster). A check is a
// numbered async function that returns notes or throws; `Skip` marks a check that cannot run here
// (with the reason), never a pass. The runner ends with the line "N passed, N failed".
import { log } from "../../../scripts/local/lib.mjs";

export class Skip extends Error {}

export class Runner {
    /** `only`: run just these check numbers (E2E_ONLY=1,2,3); `explain(e)`: rewrite a failure's message. */
    constructor({ tier, only = process.env.E2E_ONLY, explain } = {}) {
        this.tier = tier;
        this.only = only ? new Set(String(only).split(",").map(Number)) : undefined;
        this.explain = explain;
        this.results = [];
    }

    async check(n, title, fn) {
        if (this.only && !this.only.has(n)) return;
        const t0 = Date.now();
        log(`--- check ${n}: ${title}`);
        try {
            const notes = await fn();
            this.results.push({ n, title, ok: true });
            log(`PASS ${n} ${title} (${((Date.now() - t0) / 1000).toFixed(1)}s)${notes ? `\n       ${[].concat(notes).join("\n       ")}` : ""}`);
        } catch (e) {
            if (e instanceof Skip) {
                this.results.push({ n, title, ok: true, skipped: e.message });
                log(`SKIP ${n} ${title}: ${e.message}`);
                return;
            }
            if (this.explain) e.message = this.explain(e) ?? e.message;
            this.fail(n, title, e);
        }
    }

    /** A failure outside a check (setup, a phase's bring-up): counted, with its message. */
    fail(n, title, e) {
        this.results.push({ n, title, ok: false, error: e.message });
        log(`FAIL ${n} ${title}: ${e.message}`);
        if (e.result) log(`pulumi output tail:\n${(e.result.stdout + e.result.stderr).slice(-3000)}`);
    }

    /** Prints the summary and returns the exit code (1 if anything failed or nothing ran). */
    summary(extra = []) {
        const skipped = this.results.filter((r) => r.skipped).length;
        const passed = this.results.filter((r) => r.ok && !r.skipped).length;
        const failed = this.results.filter((r) => !r.ok).length;
        console.log(`\nsummary, tier ${this.tier}:`);
        for (const r of this.results) console.log(`  ${r.skipped ? "SKIP" : r.ok ? "PASS" : "FAIL"} ${r.n} ${r.title}${r.ok ? "" : `\n       ${r.error.split("\n")[0]}`}`);
        for (const line of extra) console.log(line);
        if (skipped) console.log(`${skipped} skipped`);
        console.log(`${passed} passed, ${failed} failed`);
        return failed > 0 || passed === 0 ? 1 : 0;
    }
}

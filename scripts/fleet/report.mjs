// Live progress per stack (one line per step that changes something, errors and policy violations
// as they come, a heartbeat of every running stack) and the summary table at the end.
const PAST = { create: "created", update: "updated", delete: "deleted", replace: "replaced", "create-replacement": "created (replacement)", "delete-replaced": "deleted (replaced)", read: "read", refresh: "refreshed" };
const nameOf = (urn) => String(urn ?? "").split("::").pop();

/**
 * The step an engine event reports, when it changes something: announced by a preview
 * (resourcePreEvent) or done by an up or destroy (resOutputsEvent). Unchanged resources, reads and
 * the providers' own steps are not changes of the stack. The one rule for the live lines and the
 * summary's step lists.
 */
export function changingStep(e, planning) {
    const m = (planning ? e.resourcePreEvent : e.resOutputsEvent)?.metadata;
    if (!m || m.op === "same" || m.op === "read" || String(m.type).startsWith("pulumi:providers:")) return undefined;
    return { op: m.op, type: m.type, name: nameOf(m.urn) };
}

export function progressPrinter({ write = (l) => process.stdout.write(`${l}\n`), heartbeatMs = 20000, width = 14 } = {}) {
    const running = new Map();
    const stamp = () => new Date().toISOString().slice(11, 19);
    const line = (s, text) => write(`${stamp()}  ${s.stack.padEnd(width)} ${text}`);
    const timer = setInterval(() => {
        if (!running.size) return;
        write(`${stamp()}  ${"…".padEnd(width)} running: ${[...running.entries()].map(([stack, r]) => `${stack} ${r.steps} step${r.steps === 1 ? "" : "s"}, ${Math.round((Date.now() - r.t0) / 1000)}s`).join("; ")}`);
    }, heartbeatMs);
    timer.unref();
    return {
        start(s, what) {
            running.set(s.stack, { t0: Date.now(), steps: 0, what });
            line(s, `${what} (${s.role}) started`);
        },
        note(s, text) {
            line(s, text);
        },
        event(s, e) {
            const r = running.get(s.stack);
            const planning = /preview/.test(r?.what ?? "");
            const step = changingStep(e, planning);
            if (step) {
                if (r) r.steps++;
                line(s, `  ${planning ? step.op : (PAST[step.op] ?? step.op)} ${step.type} ${step.name}`);
            }
            // Errors and warnings, less two that every run prints (an undefined stack output of
            // another mode; a CR awaited without conditions under esoSkipAwait).
            const d = e.diagnosticEvent;
            if (d && /error|warning/.test(d.severity) && !/update failed|^Undefined value \(|Has no \.status\.conditions/.test(d.message.trim())) {
                line(s, `  ${d.severity}: ${d.message.trim().split("\n").slice(0, 6).join(" / ")}`);
            }
            if (e.policyEvent) line(s, `  policy ${e.policyEvent.enforcementLevel} ${e.policyEvent.policyName}: ${e.policyEvent.description ?? ""} ${e.policyEvent.message.trim().split("\n")[0]}`);
        },
        end(s, r) {
            running.delete(s.stack);
            line(s, `${r.op} ${r.result}${r.ms ? ` in ${(r.ms / 1000).toFixed(1)}s` : ""}${r.detail ? `: ${r.detail}` : ""}`);
        },
        stop() {
            clearInterval(timer);
        },
    };
}

/** The summary table: per stack, the changes, the time and the result. */
export function summaryTable(rows, op) {
    const n = (r, k) => String(r.changes?.[k] ?? 0);
    const header = ["stack", "role", "operation", "create", "update", "delete", "replace", "same", "duration", "result"];
    const body = rows.map((r) => [r.stack, r.role, r.op, n(r, "create"), n(r, "update"), n(r, "delete"), n(r, "replace"), n(r, "same"), r.ms ? `${(r.ms / 1000).toFixed(1)}s` : "-", r.result]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    const fmt = (cells) => cells.map((c, i) => (i >= 3 && i <= 7 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
    const failed = rows.filter((r) => r.result !== "ok");
    return [
        `fleet ${op}: ${rows.length - failed.length} of ${rows.length} stacks ok`,
        fmt(header),
        fmt(widths.map((w) => "-".repeat(w))),
        ...body.map(fmt),
        ...failed.map((r) => `${r.stack}: ${r.result}${r.detail ? `: ${r.detail}` : ""}`),
    ].join("\n");
}

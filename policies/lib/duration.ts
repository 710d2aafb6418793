// Parses Go duration strings (time.ParseDuration), the format ESO's metav1.Duration fields use.

const unitSeconds: Record<string, number> = {
    ns: 1e-9,
    us: 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    ms: 1e-3,
    s: 1,
    m: 60,
    h: 3600,
};

const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Returns the duration in seconds, or undefined when `text` is not a valid Go duration. */
export function parseGoDuration(text: string): number | undefined {
    let s = text.trim();
    let sign = 1;
    if (s.startsWith("-") || s.startsWith("+")) {
        sign = s.startsWith("-") ? -1 : 1;
        s = s.slice(1);
    }
    // Go accepts a bare "0" without a unit, nothing else unit-less.
    if (s === "0") {
        return 0;
    }
    if (s === "") {
        return undefined;
    }
    let total = 0;
    part.lastIndex = 0;
    while (part.lastIndex < s.length) {
        const m = part.exec(s);
        if (!m) {
            return undefined;
        }
        total += parseFloat(m[1]) * unitSeconds[m[2]];
    }
    return sign * total;
}

/** Formats seconds the way a person would write a duration (e.g. 90 -> "1m30s"). */
export function formatSeconds(seconds: number): string {
    if (seconds === 0) {
        return "0s";
    }
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = +(seconds % 60).toFixed(3);
    return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`;
}

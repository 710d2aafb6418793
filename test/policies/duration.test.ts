import { formatSeconds, parseGoDuration } from "../../policies/lib/duration";

describe("parseGoDuration", () => {
    it.each([
        ["0", 0],
        ["30s", 30],
        ["1m", 60],
        ["1h", 3600],
        ["1h30m", 5400],
        ["1.5h", 5400],
        ["300ms", 0.3],
        ["2h45m10s", 9910],
        ["-1m", -60],
        [" 15m ", 900],
    ])("parses %j", (text, seconds) => {
        expect(parseGoDuration(text)).toBeCloseTo(seconds);
    });

    it.each(["", "1", "1d", "h", "1hh", "1 h", "abc", "1h-5m"])("rejects %j", (text) => {
        expect(parseGoDuration(text)).toBeUndefined();
    });
});

describe("formatSeconds", () => {
    it.each([
        [0, "0s"],
        [30, "30s"],
        [5400, "1h30m"],
        [86400, "24h"],
        [90061, "25h1m1s"],
    ])("formats %d", (seconds, text) => {
        expect(formatSeconds(seconds)).toBe(text);
    });
});

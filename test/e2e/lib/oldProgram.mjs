// The program as it was at an earlier commit, for upgrade checks: a git worktree of that commit
// (outside the checkout) sharing this checkout's node_modules, removed when `use` settles.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../../../scripts/local/lib.mjs";

export async function withProgramAt(rev, use) {
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), `vault-eso-at-${rev}-`));
    try {
        execFileSync("git", ["worktree", "add", "--detach", tree, rev], { cwd: repoRoot, stdio: "pipe" });
    } catch (e) {
        throw new Error(`cannot check out ${rev} (a shallow clone?): ${String(e.stderr || e.message).trim()}`);
    }
    try {
        fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(tree, "node_modules"));
        return await use(tree);
    } finally {
        execFileSync("git", ["worktree", "remove", "--force", tree], { cwd: repoRoot, stdio: "pipe" });
    }
}

#!/usr/bin/env bash
# Lints the GitHub Actions workflows with the pinned actionlint from tools/ (built by
# `npm run tools -- actionlint`). When ShellCheck is on PATH, actionlint also checks the
# `run:` scripts with it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! actionlint="$(node tools/run.mjs --path actionlint)"; then
    echo "lint-workflows: actionlint is not built; run: npm run tools -- actionlint" >&2
    exit 2
fi
if ! command -v shellcheck >/dev/null 2>&1; then
    echo "lint-workflows: shellcheck not on PATH, run: scripts are not checked" >&2
fi
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if [ "${#workflows[@]}" -eq 0 ]; then
    echo "lint-workflows: no workflows found" >&2
    exit 1
fi
"$actionlint" -no-color "$@" "${workflows[@]}"
echo "lint-workflows: ${#workflows[@]} workflow(s) OK"

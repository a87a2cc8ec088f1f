#!/usr/bin/env bash
# Formats the tree to the project's style, then lists what is left for a person to fix.
#   scripts/format-all.sh            the whole tree
#   scripts/format-all.sh kernel bin only these paths
# 1. Prettier --write (.prettierrc.json, .prettierignore), then eslint --fix (eslint.config.mjs).
# 2. Lists every line still over 120 characters as file:line (length): Prettier breaks code but not
#    a long string, template literal or comment; split those with + or rewrap them by hand.
#    Checked: code, JSON, YAML, shell and container files; not Markdown, package-lock.json, the
#    vendored Compose schema or the benchmark reports.
# 3. Runs ESLint's other rules and prints what --fix could not fix.
# Exit status 0 only when nothing is left (then `npm run lint` passes on these paths as well).
set -uo pipefail
cd "$(dirname "$0")/.."
paths=("$@")
[[ ${#paths[@]} -eq 0 ]] && paths=(.)

# Prettier twice: a first pass can leave a file that a second pass changes again (an object
# literal whose enclosing call was broken on the first pass), and eslint --fix may move lines.
npx prettier --write --log-level warn "${paths[@]}" || exit 2
npx eslint --fix --no-error-on-unmatched-pattern --no-warn-ignored --rule 'max-len: off' "${paths[@]}" >/dev/null
npx prettier --write --log-level warn "${paths[@]}" || exit 2
git ls-files -z --cached --others --exclude-standard -- "${paths[@]}" | node -e '
  const fs = require("fs");
  const skip = [/(^|\/)package-lock\.json$/, /\.(md|svg|csv|avsc|png)$/, /^test\/fixtures\//, /^bench\/results\//];
  const files = fs.readFileSync(0, "utf8").split("\0").filter((f) => f && !skip.some((r) => r.test(f)));
  const byFolder = new Map();
  let count = 0;
  for (const file of files) {
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) continue;
    const text = fs.readFileSync(file, "utf8");
    if (text.includes("\0")) continue;
    text.split("\n").forEach((line, i) => {
      const length = [...line].length;
      if (length <= 120) return;
      console.log(`${file}:${i + 1} (${length})`);
      const folder = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : "(top level)";
      byFolder.set(folder, (byFolder.get(folder) ?? 0) + 1);
      count++;
    });
  }
  console.log(`\n${count} line(s) over 120 characters` + (count ? ", by folder:" : "."));
  for (const [folder, n] of [...byFolder].sort()) console.log(`  ${String(n).padStart(4)}  ${folder}`);
  process.exitCode = count ? 1 : 0;
'
long=$?
echo
echo "ESLint findings other than line length:"
npx eslint --no-error-on-unmatched-pattern --no-warn-ignored --rule 'max-len: off' "${paths[@]}" && echo "  none"
lint=$?
exit $(( long || lint ))

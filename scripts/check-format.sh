#!/bin/bash
# Check the tracked C sources against .clang-format without changing them.
#   scripts/check-format.sh [FILE...]    default: every tracked *.c and *.h
# Generated code (*.pb-c.*, anything under build/) is skipped. Prints each file
# that deviates, then a summary line; exits 1 when any file deviates, 2 when
# clang-format is missing. CLANG_FORMAT=clang-format-14 picks a binary.
# To see what would change in one file: clang-format FILE | diff -u FILE -
set -u
cd "$(dirname "$0")/.." || exit 2
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
        echo "check-format: $CLANG_FORMAT not found (apt-get install clang-format)" >&2
        exit 2
fi

if [ $# -gt 0 ]; then
        files=("$@")
else
        mapfile -t files < <(git ls-files -- '*.c' '*.h' | grep -Ev '(^|/)build/|\.pb-c\.[ch]$')
fi

bad=0
for f in "${files[@]}"; do
        [ -f "$f" ] || continue
        if ! "$CLANG_FORMAT" --dry-run -Werror "$f" >/dev/null 2>&1; then
                n=$("$CLANG_FORMAT" "$f" | diff "$f" - | grep -c '^>')
                printf '%s (%d lines)\n' "$f" "$n"
                bad=$((bad + 1))
        fi
done
echo "check-format: $bad of ${#files[@]} files deviate from .clang-format ($("$CLANG_FORMAT" --version | grep -o 'version [0-9.]*'))"
[ "$bad" -eq 0 ]

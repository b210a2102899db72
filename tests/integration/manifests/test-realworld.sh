#!/bin/bash
# The real-world manifest corpus (tests/data/manifests/realworld): for each
# file, `kubelet-lite validate` must give the verdict VERDICTS records
# (exit 0 accept / 1 reject) and, when given, print the expected text in an
# error (reject) or a warning (accept) line. A verdict that differs from
# upstream's must be explained in INDEX.md. No container runtime needed.
set -u
top=$(cd "$(dirname "$0")/../../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
bin=${KL_BIN:-$build/kubelet-lite}
dir=$top/tests/data/manifests/realworld
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "FAIL - $*"; }

[ -x "$bin" ] || { echo "FAIL - no $bin (run make first)"; echo "0 passed, 1 failed"; exit 1; }

n_files=$(find "$dir" -maxdepth 1 \( -name '*.yaml' -o -name '*.json' \) | wc -l)
n_listed=0 n_differ=0
while read -r file upstream ours text; do
        case $file in "" | "#"*) continue ;; esac
        n_listed=$((n_listed + 1))
        if [ ! -f "$dir/$file" ]; then
                not_ok "$file: listed in VERDICTS but missing"
                continue
        fi
        out=$("$bin" validate --node-name cp1 "$dir/$file" 2>&1)
        rc=$?
        case $ours in
        accept) want_rc=0 kind=warning ;;
        reject) want_rc=1 kind=error ;;
        *) not_ok "$file: bad verdict '$ours'"; continue ;;
        esac
        if [ "$rc" != "$want_rc" ]; then
                not_ok "$file: expected $ours (exit $want_rc), got exit $rc"
                echo "$out" | sed 's/^/    /'
                continue
        fi
        if [ -n "$text" ]; then
                if [ $kind = warning ]; then
                        lines=$(echo "$out" | grep '^warning: ')
                else
                        lines=$(echo "$out" | grep -v '^warning: ' | grep "^$dir/$file:")
                fi
                if ! echo "$lines" | grep -qF -- "$text"; then
                        not_ok "$file: $ours, but no $kind containing '$text'"
                        echo "$out" | sed 's/^/    /'
                        continue
                fi
        elif [ $kind = warning ] && echo "$out" | grep -q '^warning: '; then
                not_ok "$file: accepted with unexpected warnings"
                echo "$out" | sed 's/^/    /'
                continue
        fi
        if [ "$upstream" != "$ours" ]; then
                n_differ=$((n_differ + 1))
                if ! grep -qF -- "$file" "$dir/INDEX.md"; then
                        not_ok "$file: differs from upstream ($upstream) without a note in INDEX.md"
                        continue
                fi
        fi
        ok "$file: $ours${text:+ ($text)}"
done <"$dir/VERDICTS"

if [ "$n_listed" = "$n_files" ] && [ "$n_files" -ge 60 ]; then
        ok "all $n_files corpus files have a verdict ($n_differ differ from upstream, each explained in INDEX.md)"
else
        not_ok "VERDICTS lists $n_listed files, the corpus has $n_files (at least 60 wanted)"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

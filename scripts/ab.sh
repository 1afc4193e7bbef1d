#!/usr/bin/env bash
# Two builds of mailsleuth side by side on one input: is a change faster, smaller, and the same?
#
#   scripts/ab.sh OLD_BINARY NEW_BINARY INPUT [RUNS]
#   scripts/ab.sh /tmp/ms-main target/release/mailsleuth ../benchdata/big.log 6
#
# Runs `report INPUT --format json` RUNS times with each binary (default 5), alternating run by
# run so that a change of the machine's load hits both, after one untimed run of each that also
# checks that both write the same JSON. Prints, per binary, the median and the range of:
#   wall      whole-process wall time (/usr/bin/time %e)
#   cpu       user + system CPU time
#   peak      peak RSS (/usr/bin/time %M)
#   anon      the largest RssAnon at a stage end (MAILSLEUTH_TIMINGS=1)
#   anon-max  the largest RssAnon sampled every 20 ms (MAILSLEUTH_TIMINGS=1)
#   parse     the parse stage's wall time (load to `parse`)
#   lives     the lives stage's wall time (`parse` to `timelines: lives`)
#   after     everything after the lives (`timelines: lives` to `rendered`)
# On a shared machine the same binary varies by 5-10 % from run to run: trust a difference
# only when the ranges barely overlap, and prefer more runs to fewer.

set -euo pipefail

usage() {
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

[[ $# -ge 3 && $# -le 4 ]] || usage
A=$1 B=$2 INPUT=$3 RUNS=${4:-5}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "ab.sh: RUNS must be a positive number, not '$RUNS'" >&2; exit 2; }
for f in "$A" "$B"; do
    [[ -x $f ]] || { echo "ab.sh: not an executable: $f" >&2; exit 2; }
done
[[ -e $INPUT ]] || { echo "ab.sh: no such input: $INPUT" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "ab.sh: needs /usr/bin/time (GNU time)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Warm the page cache and compare the outputs.
cat "$INPUT" > /dev/null 2>&1 || true
"$A" report "$INPUT" --format json -o "$work/a.json" 2> /dev/null || true
"$B" report "$INPUT" --format json -o "$work/b.json" 2> /dev/null || true
if cmp -s "$work/a.json" "$work/b.json"; then
    same="yes"
else
    same="NO"
fi

# One timed run: "wall cpu peak_kib anon_mib anon_max_mib parse lives after" on stdout.
one() {
    local bin=$1 err=$work/err
    MAILSLEUTH_TIMINGS=1 /usr/bin/time -f 'TIME %e %U %S %M' \
        "$bin" report "$INPUT" --format json -o /dev/null 2> "$err" || true
    awk '
        /^timing: +[0-9.]+ s / {
            t = $2
            if ($0 ~ / parse  /) parse = t
            if ($0 ~ /timelines: lives/) lives = t
            if ($0 ~ / rendered/) rendered = t
            for (i = 1; i <= NF; i++) {
                if ($i == "anon" && $(i + 1) + 0 > anon) anon = $(i + 1) + 0
                if ($i == "anon-max" && $(i + 1) + 0 > amax) amax = $(i + 1) + 0
            }
        }
        /^TIME / { wall = $2; cpu = $3 + $4; peak = $5 }
        END {
            printf "%s %s %s %s %s %s %s %s\n", wall, cpu, peak, anon + 0, amax + 0,
                parse + 0, (lives ? lives - parse : 0), (rendered ? rendered - lives : 0)
        }' "$err"
}

for ((i = 0; i < RUNS; i++)); do
    one "$A" >> "$work/a.txt"
    one "$B" >> "$work/b.txt"
done

summary() {
    local name=$1 file=$2
    awk -v name="$name" '
        { for (c = 1; c <= 8; c++) v[c, NR] = $c }
        END {
            n = NR
            split("wall cpu peak anon anon-max parse lives after", label, " ")
            split("s s MiB MiB MiB s s s", unit, " ")
            line = sprintf("%-4s", name)
            for (c = 1; c <= 8; c++) {
                for (i = 1; i <= n; i++) x[i] = v[c, i]
                # insertion sort: a handful of runs
                for (i = 2; i <= n; i++) {
                    k = x[i]; j = i - 1
                    while (j >= 1 && x[j] > k) { x[j + 1] = x[j]; j-- }
                    x[j + 1] = k
                }
                med = (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
                lo = x[1]; hi = x[n]
                if (c == 3) { med /= 1024; lo /= 1024; hi /= 1024 }
                fmt = (unit[c] == "MiB") ? "%s %.0f %s (%.0f-%.0f)" : "%s %.2f %s (%.2f-%.2f)"
                line = line sprintf("  " fmt, label[c], med, unit[c], lo, hi)
            }
            print line
        }' "$file"
}

echo "input: $INPUT, $RUNS run(s) each, alternating; median (range)"
echo "A: $A"
echo "B: $B"
summary A "$work/a.txt"
summary B "$work/b.txt"
echo "same JSON: $same"

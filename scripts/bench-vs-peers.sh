#!/usr/bin/env bash
# Issue 8 ("speed and memory"): mailsleuth side by side with its peers on the benchmark
# workload of ../shared/bench, in one run, warm page cache, and a Markdown table of the
# ratios against the issue's targets.
#
#   scripts/bench-vs-peers.sh                              # the 1 GiB, seed 42 workload
#   scripts/bench-vs-peers.sh --size 50M --dir /tmp/bench50 --runs 1
#
# Measured (each after one untimed `cat INPUT > /dev/null`; mailsleuth and its reference
# alternate run by run, so a change of load hits both):
#   mailsleuth report big.log --format json -o /dev/null      vs  pflogsumm big.log
#   mailsleuth report big.log.gz --format json -o /dev/null   vs  zcat big.log.gz
#   mailsleuth report rotated/ --format json -o /dev/null     vs  zcat -f rotated/mail.log*
#   mailsleuth --threads 1 report big.log --format json       cmp the default threads' output
#   (--with-4g) mailsleuth on a log 4 times the size           vs  mailsleuth on big.log
#
# Wall time is the median of the runs (taken with bash's EPOCHREALTIME around the command),
# MB/s is over big.log's size (10^6 bytes; the decoded size of all three inputs), peak RSS is
# /usr/bin/time's %M (the largest of the runs). mailsleuth's anonymous memory comes from its
# MAILSLEUTH_TIMINGS=1 stage lines on stderr: `anon N MiB` (RssAnon at the end of each stage,
# the largest kept) and `anon-max N MiB` (the largest RssAnon sampled every 20 ms, which the
# target is checked against when the binary prints it); not a kernel high-water mark (the
# kernel keeps none for RssAnon); `n/a` for a binary without them.
#
# The workload is generated when missing, as ../shared/bench/README.md says; existing files are
# reused, never regenerated. File names: big.log, big.log.gz, rotated/ (and big4.log) for the
# default --size 1G --seed 42; big-SIZE.log, big-SIZE.log.gz, rotated-SIZE/, big4-SIZE.log
# (plus -sSEED for another seed) otherwise, so a small test run never clobbers the 1 GiB one.
#
# The table also goes to DIR/bench-vs-peers.md.

set -euo pipefail
export LC_ALL=C

usage() {
    cat <<'EOF'
Usage: scripts/bench-vs-peers.sh [OPTIONS]

Options (environment variable in brackets; an option wins over the variable):
  --size SIZE          workload size for gen_maillog.py, e.g. 1G, 50M   [BENCH_SIZE]  (1G)
  --seed N             generator seed                                    [BENCH_SEED]  (42)
  --dir DIR            where the workload lives; created if missing      [BENCH_DIR]
                       (default: ../benchdata beside the repository)
  --runs N             timed runs of mailsleuth and zcat                 [BENCH_RUNS]  (3)
  --pflogsumm-runs N   timed runs of pflogsumm                 [BENCH_PFLOGSUMM_RUNS]  (1)
  --bin PATH           mailsleuth binary to measure                      [BENCH_BIN]
                       (default: `cargo build --release`, then target/release/mailsleuth
                       under cargo metadata's target_directory, which honours CARGO_TARGET_DIR)
  --skip-pflogsumm     do not run pflogsumm (~45-110 s on 1 GiB)  [BENCH_SKIP_PFLOGSUMM=1]
  --with-4g            also run the linearity check on a log 4 times the size (4G for 1G;
                       ~4 GiB more disk and a few minutes of generation)  [BENCH_WITH_4G=1]
  --skip-4g            do not (the default)
  -h, --help           this help
EOF
}

die() {
    echo "bench-vs-peers: $*" >&2
    exit 2
}
note() { echo "bench-vs-peers: $*" >&2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=$(cd "$ROOT/.." && pwd)/shared
GEN=$SHARED/bench/gen_maillog.py

SIZE=${BENCH_SIZE:-1G}
SEED=${BENCH_SEED:-42}
DIR=${BENCH_DIR:-$(cd "$ROOT/.." && pwd)/benchdata}
RUNS=${BENCH_RUNS:-3}
PF_RUNS=${BENCH_PFLOGSUMM_RUNS:-1}
BIN=${BENCH_BIN:-}
SKIP_PF=${BENCH_SKIP_PFLOGSUMM:-0}
WITH_4G=${BENCH_WITH_4G:-0}

need_arg() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value"; }
while [[ $# -gt 0 ]]; do
    case $1 in
    --size) need_arg "$@"; SIZE=$2; shift 2 ;;
    --size=*) SIZE=${1#*=}; shift ;;
    --seed) need_arg "$@"; SEED=$2; shift 2 ;;
    --seed=*) SEED=${1#*=}; shift ;;
    --dir) need_arg "$@"; DIR=$2; shift 2 ;;
    --dir=*) DIR=${1#*=}; shift ;;
    --runs) need_arg "$@"; RUNS=$2; shift 2 ;;
    --runs=*) RUNS=${1#*=}; shift ;;
    --pflogsumm-runs) need_arg "$@"; PF_RUNS=$2; shift 2 ;;
    --pflogsumm-runs=*) PF_RUNS=${1#*=}; shift ;;
    --bin) need_arg "$@"; BIN=$2; shift 2 ;;
    --bin=*) BIN=${1#*=}; shift ;;
    --skip-pflogsumm) SKIP_PF=1; shift ;;
    --with-4g) WITH_4G=1; shift ;;
    --skip-4g) WITH_4G=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
    esac
done

SIZE=${SIZE^^}
[[ $SIZE =~ ^[0-9]+(\.[0-9]+)?[KMG]?$ ]] || die "--size: want a size like 1G or 50M, not '$SIZE'"
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed: want a number, not '$SEED'"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs: want a positive number, not '$RUNS'"
[[ $PF_RUNS =~ ^[1-9][0-9]*$ ]] || die "--pflogsumm-runs: want a positive number, not '$PF_RUNS'"
[[ -f $GEN ]] || die "no generator at $GEN"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (GNU time, for peak RSS)"
for tool in python3 gzip zcat cmp; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done
if [[ $SKIP_PF != 1 ]] && ! command -v pflogsumm >/dev/null; then
    die "pflogsumm is not on PATH: install it or pass --skip-pflogsumm"
fi
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later needed (EPOCHREALTIME)"

# --- the binary -------------------------------------------------------------------------
BIN_FROM="built from"
if [[ -n $BIN ]]; then
    BIN_FROM="--bin given; checkout at"
else
    note "cargo build --release"
    (cd "$ROOT" && cargo build --release --bin mailsleuth) >&2
    TARGET=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    BIN=$TARGET/release/mailsleuth
fi
[[ -x $BIN ]] || die "not an executable: $BIN"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

# --- the workload -----------------------------------------------------------------------
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
TAG=
[[ $SIZE == 1G ]] || TAG=-$SIZE
[[ $SEED == 42 ]] || TAG=$TAG-s$SEED
LOG=big$TAG.log
GZ=$LOG.gz
ROT=rotated$TAG
LOG4=big4$TAG.log
SIZE4=$(awk -v s="$SIZE" 'BEGIN { u = s; sub(/^[0-9.]+/, "", u); n = s; sub(/[KMG]$/, "", n); printf "%g%s", n * 4, u }')

cd "$DIR"

# Generate to a temporary name and rename, so an interrupted run leaves no truncated file
# that a later run would take for the workload (the generator's bytes do not depend on the
# output's name).
gen_log() { # FILE SIZE
    [[ -s $1 ]] && return 0
    note "generating $DIR/$1 (--size $2 --seed $SEED; ~4 min per GiB)"
    python3 "$GEN" --size "$2" --seed "$SEED" -o "$1.tmp"
    mv "$1.tmp" "$1"
}
gen_log "$LOG" "$SIZE"
if [[ ! -s $GZ ]]; then
    note "gzip -6 -k -f $LOG"
    gzip -6 -k -f "$LOG"
fi
if [[ ! -d $ROT ]]; then
    note "rotating $LOG into $ROT/ (8 parts)"
    rm -rf "$ROT.tmp"
    python3 "$GEN" --rotate "$LOG" "$ROT.tmp" --parts 8
    mv "$ROT.tmp" "$ROT"
fi
if [[ $WITH_4G == 1 ]]; then gen_log "$LOG4" "$SIZE4"; fi

shopt -s nullglob
ROT_FILES=("$ROT"/mail.log*)
shopt -u nullglob
[[ ${#ROT_FILES[@]} -gt 0 ]] || die "$DIR/$ROT holds no mail.log*"

BYTES=$(stat -c %s "$LOG")

# --- measuring ----------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-vs-peers.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# By label: W (wall times, s), M (peak RSS, KiB), A (largest RssAnon at a stage end, MiB),
# X (largest RssAnon sampled, MiB); one word per run.
declare -A W M A X

# timed LABEL CMD...: one run, stdout to /dev/null, stderr kept for MAILSLEUTH_TIMINGS.
timed() {
    local label=$1
    shift
    local t0 t1 rc=0 rss anon amax
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || rc=$?
    t1=$EPOCHREALTIME
    # mailsleuth exits 1 when some input had problems (still a full run); anything else fails.
    if [[ $rc -ne 0 ]] && ! [[ $rc -eq 1 && $label == ms-* ]]; then
        cat "$WORK/stderr" >&2
        die "exit status $rc: $*"
    fi
    [[ $rc -eq 0 ]] || note "exit status 1 (input warnings): $*"
    rss=$(tail -n 1 "$WORK/time" | awk '{ print $2 }')
    anon=$(sed -n 's/^timing:.* anon *\([0-9][0-9]*\) MiB.*/\1/p' "$WORK/stderr" | sort -n | tail -n 1)
    amax=$(sed -n 's/^timing:.* anon-max *\([0-9][0-9]*\) MiB.*/\1/p' "$WORK/stderr" | sort -n | tail -n 1)
    W[$label]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }') "
    M[$label]+="$rss "
    A[$label]+="${anon:-} "
    X[$label]+="${amax:-} "
    note "$(printf '%-14s %8.3f s  peak RSS %6d MiB%s%s' "$label" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" $((rss / 1024)) "${anon:+  anon $anon MiB}" "${amax:+  anon-max $amax MiB}")"
}

median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { tr ' ' '\n' | awk 'NF' | sort -g | tail -n 1; }
med() { median <<<"${W[$1]:-}"; }
rss_mib() {
    local k
    k=$(maxof <<<"${M[$1]:-}")
    if [[ -n $k ]]; then echo $((k / 1024)); else echo n/a; fi
}
anon_mib() { maxof <<<"${A[$1]:-}"; }
anon_max_mib() { maxof <<<"${X[$1]:-}"; }

# pair N_MS N_REF MS_LABEL REF_LABEL -- MS_CMD... -- REF_CMD...: alternate the two commands.
pair() {
    local n_ms=$1 n_ref=$2 l_ms=$3 l_ref=$4
    shift 4
    [[ $1 == -- ]] || die "pair: want --"
    shift
    local ms=() ref=()
    while [[ $1 != -- ]]; do ms+=("$1"); shift; done
    shift
    ref=("$@")
    local i n=$((n_ms > n_ref ? n_ms : n_ref))
    for ((i = 0; i < n; i++)); do
        ((i < n_ms)) && timed "$l_ms" "${ms[@]}"
        if ((i < n_ref)) && [[ ${#ref[@]} -gt 0 ]]; then timed "$l_ref" "${ref[@]}"; fi
    done
}

warm() { cat "$@" >/dev/null; }

read -r L1 L2 L3 _ </proc/loadavg
LOAD_BEFORE="$L1 $L2 $L3"
note "load average before: $LOAD_BEFORE"

warm "$LOG"
if [[ $SKIP_PF == 1 ]]; then
    pair "$RUNS" 0 ms-plain pflogsumm -- env MAILSLEUTH_TIMINGS=1 "$BIN" report "$LOG" --format json -o /dev/null --
else
    pair "$RUNS" "$PF_RUNS" ms-plain pflogsumm -- env MAILSLEUTH_TIMINGS=1 "$BIN" report "$LOG" --format json -o /dev/null -- pflogsumm "$LOG"
fi
# `env` runs mailsleuth in place (exec), so /usr/bin/time measures mailsleuth itself.

warm "$GZ"
pair "$RUNS" "$RUNS" ms-gz zcat-gz -- "$BIN" report "$GZ" --format json -o /dev/null -- zcat "$GZ"

warm "${ROT_FILES[@]}"
pair "$RUNS" "$RUNS" ms-rot zcat-rot -- "$BIN" report "$ROT/" --format json -o /dev/null -- zcat -f "${ROT_FILES[@]}"

warm "$LOG"
note "--threads 1 against the default threads on $LOG"
rc=0
"$BIN" --threads 1 report "$LOG" --format json >"$WORK/t1.json" 2>"$WORK/t1.err" || rc=$?
[[ $rc -le 1 ]] || { cat "$WORK/t1.err" >&2; die "--threads 1 run: exit status $rc"; }
rc=0
"$BIN" report "$LOG" --format json >"$WORK/tn.json" 2>"$WORK/tn.err" || rc=$?
[[ $rc -le 1 ]] || { cat "$WORK/tn.err" >&2; die "default threads run: exit status $rc"; }
if cmp -s "$WORK/t1.json" "$WORK/tn.json"; then IDENTICAL=yes; else IDENTICAL=no; fi
note "identical: $IDENTICAL ($(stat -c %s "$WORK/t1.json") and $(stat -c %s "$WORK/tn.json") bytes)"

if [[ $WITH_4G == 1 ]]; then
    warm "$LOG4"
    for ((i = 0; i < RUNS; i++)); do
        timed ms-4g env MAILSLEUTH_TIMINGS=1 "$BIN" report "$LOG4" --format json -o /dev/null
    done
fi

read -r L1 L2 L3 _ </proc/loadavg
LOAD_AFTER="$L1 $L2 $L3"

# --- the table ----------------------------------------------------------------------------
fmt_time() { # SECONDS -> "12.34 s · 87.1 MB/s"
    awk -v t="$1" -v b="$BYTES" 'BEGIN { printf "%.2f s · %.1f MB/s", t, b / t / 1e6 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "yes" : "no" }'; }
mib() { if [[ -n $1 ]]; then echo "$1 MiB"; else echo n/a; fi; }

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ $COMMIT != unknown ]] && ! git -C "$ROOT" diff --quiet HEAD 2>/dev/null; then
    COMMIT="$COMMIT, with uncommitted changes"
fi
MODEL=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
RAM=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)

ROT_BYTES=$(du -cb "${ROT_FILES[@]}" | tail -n 1 | cut -f 1)
GZ_BYTES=$(stat -c %s "$GZ")

rows=()
t_ms=$(med ms-plain)
r_ms=$(rss_mib ms-plain)
a_ms=$(anon_mib ms-plain)
x_ms=$(anon_max_mib ms-plain)
if [[ $SKIP_PF == 1 ]]; then
    rows+=("| \`$LOG\` ($BYTES B) | $(fmt_time "$t_ms") | \`pflogsumm $LOG\` | skipped | n/a | ≤ 1/30 (0.033) | n/a | $r_ms MiB |")
else
    t_pf=$(med pflogsumm)
    q=$(ratio "$t_ms" "$t_pf")
    rows+=("| \`$LOG\` ($BYTES B) | $(fmt_time "$t_ms") | \`pflogsumm $LOG\` | $(fmt_time "$t_pf") · $(rss_mib pflogsumm) MiB | $q | ≤ 1/30 (0.033) | $(le "$q" 0.0333333) | $r_ms MiB |")
fi
if [[ -n $x_ms ]]; then
    met=$(le "$x_ms" 256)
    rows+=("| \`$LOG\`, anonymous memory | RssAnon $(mib "$x_ms") (largest sampled every 20 ms; $(mib "$a_ms") at a stage end) | | | | ≤ 256 MiB | $met | $r_ms MiB |")
else
    if [[ -n $a_ms ]]; then met=$(le "$a_ms" 256); else met=n/a; fi
    rows+=("| \`$LOG\`, anonymous memory | RssAnon $(mib "$a_ms") (largest at a stage end) | | | | ≤ 256 MiB | $met | $r_ms MiB |")
fi

t_ms=$(med ms-gz)
t_ref=$(med zcat-gz)
q=$(ratio "$t_ms" "$t_ref")
r_ms=$(rss_mib ms-gz)
rows+=("| \`$GZ\` ($GZ_BYTES B) | $(fmt_time "$t_ms") | \`zcat $GZ\` | $(fmt_time "$t_ref") | $q | ≤ 0.5 | $(le "$q" 0.5) | $r_ms MiB |")
rows+=("| \`$GZ\`, peak RSS | $r_ms MiB | | | | ≤ 300 MiB | $(le "$r_ms" 300) | $r_ms MiB |")

t_ms=$(med ms-rot)
t_ref=$(med zcat-rot)
q=$(ratio "$t_ms" "$t_ref")
rows+=("| \`$ROT/\` (${#ROT_FILES[@]} files, $ROT_BYTES B) | $(fmt_time "$t_ms") | \`zcat -f $ROT/mail.log*\` | $(fmt_time "$t_ref") | $q | ≤ 0.5 | $(le "$q" 0.5) | $(rss_mib ms-rot) MiB |")

rows+=("| \`$LOG\`, \`--threads 1\` vs default | JSON identical: $IDENTICAL | | | | identical | $IDENTICAL | |")

if [[ $WITH_4G == 1 ]]; then
    t4=$(med ms-4g)
    t1=$(med ms-plain)
    b4=$(stat -c %s "$LOG4")
    q=$(ratio "$t4" "$t1")
    sq=$(ratio "$b4" "$BYTES")
    a4=$(anon_max_mib ms-4g)
    [[ -n $a4 ]] || a4=$(anon_mib ms-4g)
    rows+=("| \`$LOG4\` ($b4 B, ${sq}× the size) | $(awk -v t="$t4" -v b="$b4" 'BEGIN { printf "%.2f s · %.1f MB/s", t, b / t / 1e6 }') | mailsleuth \`$LOG\` | $(fmt_time "$t1") | $q | ≤ 4.4 | $(le "$q" 4.4) | $(rss_mib ms-4g) MiB (anon $(mib "$a4")) |")
fi

{
    echo "mailsleuth vs peers: --size $SIZE --seed $SEED, $RUNS run(s) each (pflogsumm: $PF_RUNS), median wall time, warm page cache; MB/s over \`$LOG\`'s $BYTES bytes."
    echo
    echo "| input | mailsleuth | reference | reference time | ratio (mailsleuth ÷ reference) | target | met? | mailsleuth peak RSS |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Machine: $(nproc) cores, ${MODEL:-unknown CPU}, $RAM RAM, Linux $(uname -r); load average $LOAD_BEFORE before, $LOAD_AFTER after; $BIN ($BIN_FROM $COMMIT)."
} | tee "$DIR/bench-vs-peers.md"
note "table written to $DIR/bench-vs-peers.md"

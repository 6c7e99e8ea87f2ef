#!/usr/bin/env bash
# Run every benchmark; one JSON object per line on stdout, the human summaries on stderr.
#
#   bench/run_all.sh > results.jsonl
#
# Uses `acd` from PATH, or `python3 -m acd` (set PYTHON to pick the interpreter).
# A benchmark that fails is reported on stderr; the others still run; exit status 1 then.
set -u

if command -v acd >/dev/null 2>&1; then
    ACD=(acd)
else
    ACD=("${PYTHON:-python3}" -m acd)
fi

status=0

run() {
    local out
    if out=$("${ACD[@]}" bench "$@" --json); then
        # Everything but the last line is the summary; the last line is the JSON.
        printf '%s\n' "$out" | sed '$d' >&2
        printf '%s\n' "$out" | tail -n 1
    else
        echo "bench/run_all.sh: acd bench $* failed" >&2
        status=1
    fi
}

# Routing decision latency: the target size, then a tenth of it.
run routing --agents 10000 --skills 100 --calls 100000
run routing --agents 1000 --skills 20 --calls 10000

# Wait-estimate accuracy below, near and above capacity.
for load in 0.9 1.1 1.3; do
    run ewt --load "$load" --agents 50
done

# AMI parsing on one core; the daemon end to end through the simulated PBX.
run ami --events 200000
run e2e --calls 1000 --agents 500

# PostgreSQL (the local cluster, role acd_test): call records written, a month's report.
run persist
run report --calls 1000000

exit "$status"

#!/usr/bin/env bash
# End-to-end benchmark of the cluster topology: `deploy/local-cluster.sh start` (PostgreSQL with fsync on, two silos,
# two executor managers of 2 slots each, all on 127.0.0.1), one warm-up `flmping -p` through both gateways, then
# `flmping -e GATEWAYS -p -t TASKS` ROUNDS times. Each round prints flmping's throughput and lone-task p50/p99 and
# the CPU seconds spent in it by the two session managers, the two executor managers (with their service processes)
# and PostgreSQL (from /proc). The cluster is stopped at the end, also on failure.
#
#   bench/cluster.sh [TASKS=30000] [ROUNDS=5]
#
# Environment: FLAME_BENCH_BUILD=0 skips the Release build; FLAME_BENCH_WARMUP (5000) tasks in the warm-up run;
# FLAME_POSTGRES_FSYNC (on here) and the other FLAME_LOCAL_CLUSTER_* variables of deploy/local-cluster.sh.
set -euo pipefail

readonly REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly TASKS="${1:-30000}"
readonly ROUNDS="${2:-5}"
readonly WARMUP="${FLAME_BENCH_WARMUP:-5000}"
readonly PING_DLL="$REPO/src/Flame.Cli/Flmping/bin/Release/net10.0/flmping.dll"
export FLAME_LOCAL_CLUSTER_DIR="${FLAME_LOCAL_CLUSTER_DIR:-$(mktemp -d /tmp/flame-bench-cluster.XXXXXX)}"
export FLAME_POSTGRES_FSYNC="${FLAME_POSTGRES_FSYNC:-on}"
export FLAME_LOCAL_CLUSTER_BUILD="${FLAME_BENCH_BUILD:-1}"

fail() { echo "cluster.sh: $*" >&2; exit 1; }
[[ "$TASKS" =~ ^[0-9]+$ && "$ROUNDS" =~ ^[0-9]+$ ]] || { echo "usage: bench/cluster.sh [TASKS] [ROUNDS]" >&2; exit 2; }

if [[ "$FLAME_LOCAL_CLUSTER_BUILD" == 1 ]]; then
    dotnet build "$REPO/src/Flame.Cli/Flmping" -c Release --nologo -v quiet >/dev/null || fail "build of flmping failed"
fi
trap '"$REPO/deploy/local-cluster.sh" stop >/dev/null 2>&1 || true' EXIT
"$REPO/deploy/local-cluster.sh" start >"$FLAME_LOCAL_CLUSTER_DIR/start.log" 2>&1 || fail "the cluster did not start: $(tail -n 1 "$FLAME_LOCAL_CLUSTER_DIR/start.log")"
# shellcheck disable=SC1091
source "$FLAME_LOCAL_CLUSTER_DIR/cluster.env"

# CPU seconds (user + system) of a process and its descendants so far (services are the executor managers' children).
cpu_tree() {
    local hz total=0 pid
    hz=$(getconf CLK_TCK)
    for pid in "$@" $(for p in "$@"; do pgrep -P "$p" 2>/dev/null || true; done); do
        [[ -r "/proc/$pid/stat" ]] || continue
        total=$(awk -v a="$total" -v hz="$hz" '{ printf "%.2f", a + ($14 + $15) / hz }' "/proc/$pid/stat")
    done
    echo "$total"
}
pids_of() { local name; for name in "$@"; do cat "$FLAME_LOCAL_CLUSTER_DIR/pids/$name.pid"; done; }
session_managers=$(pids_of session-manager-1 session-manager-2)
executor_managers=$(pids_of executor-manager-1 executor-manager-2)
postgres=$(head -n 1 "$POSTGRES_DATA/data/postmaster.pid")
sample() { echo "$(cpu_tree $session_managers) $(cpu_tree $executor_managers) $(cpu_tree "$postgres")"; }

echo "gateways $GATEWAYS, PostgreSQL fsync=$FLAME_POSTGRES_FSYNC; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$PING_DLL" -e "$GATEWAYS" -p -t "$WARMUP" >"$FLAME_LOCAL_CLUSTER_DIR/warmup.log" 2>&1 || fail "warm-up failed: $(tail -n 3 "$FLAME_LOCAL_CLUSTER_DIR/warmup.log")"
echo "warm-up: $(grep -m1 'Throughput:' "$FLAME_LOCAL_CLUSTER_DIR/warmup.log" | tr -s ' ')"
for round in $(seq 1 "$ROUNDS"); do
    read -r sm0 em0 pg0 <<<"$(sample)"
    log="$FLAME_LOCAL_CLUSTER_DIR/round-$round.log"
    dotnet "$PING_DLL" -e "$GATEWAYS" -p -t "$TASKS" >"$log" 2>&1 || fail "round $round failed: $(tail -n 3 "$log")"
    read -r sm1 em1 pg1 <<<"$(sample)"
    awk -v r="$round" -v t="$(grep -m1 'Throughput:' "$log" | awk '{ print $2 }')" \
        -v p50="$(grep 'Latency p50:' "$log" | tail -n 1 | awk '{ print $3 }')" -v p99="$(grep 'Latency p99:' "$log" | tail -n 1 | awk '{ print $3 }')" \
        -v sm="$(awk -v a="$sm1" -v b="$sm0" 'BEGIN { print a - b }')" -v em="$(awk -v a="$em1" -v b="$em0" 'BEGIN { print a - b }')" \
        -v pg="$(awk -v a="$pg1" -v b="$pg0" 'BEGIN { print a - b }')" \
        'BEGIN { printf "round %d: %s tasks/s, lone task p50 %s ms, p99 %s ms; CPU s: session managers %.2f, executor managers with services %.2f, PostgreSQL %.2f\n", r, t, p50, p99, sm, em, pg }'
done

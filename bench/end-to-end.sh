#!/usr/bin/env bash
# End-to-end benchmark of the embedded default: starts a Release session manager (silo, gateway, embedded
# executor manager) on free loopback ports with a fresh data directory, warms it up with one flmping run, then runs
# `flmping -p -t TASKS` ROUNDS times and prints, per round, flmping's figures and the CPU seconds that the session
# manager (with its executor manager), the service processes and flmping spent (from /proc/PID/stat).
#
#   bench/end-to-end.sh [TASKS=30000] [ROUNDS=5] [session manager options...]
#   e.g. bench/end-to-end.sh 30000 5 --Flame:Storage:Provider=Memory
#        bench/end-to-end.sh 30000 3 --Flame:ExecutorManager:TaskWindow=1
#
# Environment: FLAME_BENCH_BUILD=0 skips the Release build; FLAME_BENCH_WARMUP (5000) tasks in the warm-up run.
set -euo pipefail

readonly REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly TASKS="${1:-30000}"
readonly ROUNDS="${2:-5}"
shift $(( $# < 2 ? $# : 2 ))
readonly WARMUP="${FLAME_BENCH_WARMUP:-5000}"
readonly SM_DLL="$REPO/src/Flame.SessionManager/bin/Release/net10.0/flame-session-manager.dll"
readonly PING_DLL="$REPO/src/Flame.Cli/Flmping/bin/Release/net10.0/flmping.dll"

fail() { echo "end-to-end.sh: $*" >&2; exit 1; }
[[ "$TASKS" =~ ^[0-9]+$ && "$ROUNDS" =~ ^[0-9]+$ ]] || { echo "usage: bench/end-to-end.sh [TASKS] [ROUNDS] [session manager options...]" >&2; exit 2; }

if [[ "${FLAME_BENCH_BUILD:-1}" == 1 ]]; then
    dotnet build "$REPO/src/Flame.SessionManager" -c Release --nologo -v quiet >/dev/null || fail "build of the session manager failed"
    dotnet build "$REPO/src/Flame.Cli/Flmping" -c Release --nologo -v quiet >/dev/null || fail "build of flmping failed"
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 12000))
        if ! port_open "$port" && [[ " ${TAKEN:-} " != *" $port "* ]]; then TAKEN="${TAKEN:-} $port"; echo "$port"; return; fi
    done
    fail "no free port"
}

# CPU seconds (user + system) that a process has spent so far.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }

work=$(mktemp -d /tmp/flame-bench.XXXXXX)
http=$(free_port); silo=$(free_port); gateway=$(free_port)
endpoint="http://127.0.0.1:$http"
secured=()
if [[ "${FLAME_BENCH_SECURED:-0}" == 1 ]]; then
    # TLS on the gateway (a throwaway CA), no anonymous access, flmping with the admin token.
    "$REPO/deploy/make-certs.sh" "$work/tls" localhost >/dev/null || fail "certificates not made"
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '+/=\n' >"$work/admin.token")
    endpoint="https://127.0.0.1:$http"
    secured=(--Flame:Security:Tls:CertificateFile="$work/tls/localhost.pem" --Flame:Security:Tls:KeyFile="$work/tls/localhost-key.pem"
             --Flame:Security:Tls:CaFile="$work/tls/ca.pem" --Flame:Security:Anonymous=None
             --Flame:Security:AdminTokenFile="$work/admin.token")
    export FLAME_CA_FILE="$work/tls/ca.pem" FLAME_TOKEN_FILE="$work/admin.token"
fi
dotnet "$SM_DLL" --Flame:SessionManager:Endpoint="$endpoint" --Flame:SessionManager:BackendEndpoint=none "${secured[@]}" \
    --Flame:SessionManager:SiloPort="$silo" --Flame:SessionManager:OrleansGatewayPort="$gateway" \
    --Flame:Storage:DataDirectory="$work/data" --Flame:ExecutorManager:WorkDirectory="$work/em" "$@" \
    >"$work/session-manager.log" 2>&1 &
sm=$!
trap 'kill $sm 2>/dev/null; wait $sm 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
    port_open "$http" && break
    kill -0 $sm 2>/dev/null || fail "the session manager exited: $(tail -n 1 "$work/session-manager.log")"
    sleep 0.1
done
port_open "$http" || fail "the session manager did not listen on $endpoint within 60 s"

echo "session manager $endpoint${secured[0]:+ (secured: TLS, admin token)}, options: ${*:-(defaults)}; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$PING_DLL" --endpoint "$endpoint" -p -t "$WARMUP" >"$work/warmup.log" 2>&1 || fail "warm-up failed: $(tail -n 3 "$work/warmup.log")"
echo "warm-up: $(grep -m1 'Throughput:' "$work/warmup.log" | tr -s ' ')"

# The service processes are the session manager's children (its embedded executor manager starts them).
service_pids() { echo $(cat "/proc/$sm/task/"*/children 2>/dev/null); }
services_cpu() {
    local total=0 child
    for child in $(service_pids); do total=$(awk -v a="$total" -v b="$(cpu_of "$child")" 'BEGIN { print a + b }'); done
    echo "$total"
}
for round in $(seq 1 "$ROUNDS"); do
    sm_before=$(cpu_of $sm); services_before=$(services_cpu); pids_before=$(service_pids)
    TIMEFORMAT='%U %S'
    { time dotnet "$PING_DLL" --endpoint "$endpoint" -p -t "$TASKS" >"$work/round.log" 2>&1 || fail "round $round failed: $(tail -n 3 "$work/round.log")"; } 2>"$work/time"
    ping_cpu=$(awk '{ print $1 + $2 }' "$work/time")
    sm_after=$(cpu_of $sm); services_after=$(services_cpu)
    # A service started during the round (not kept from the last) spent its start-up in the round too.
    pids_after=$(service_pids); started=0
    for pid in $pids_after; do [[ " $pids_before " == *" $pid "* ]] || started=$((started + 1)); done
    throughput=$(grep -m1 'Throughput:' "$work/round.log" | awk '{ print $2 }')
    p50=$(grep 'Latency p50:' "$work/round.log" | tail -n 1 | awk '{ print $3 }')
    p99=$(grep 'Latency p99:' "$work/round.log" | tail -n 1 | awk '{ print $3 }')
    awk -v r="$round" -v t="$throughput" -v p50="$p50" -v p99="$p99" -v sm="$(awk -v a="$sm_after" -v b="$sm_before" 'BEGIN { print a - b }')" \
        -v sv="$(awk -v a="$services_after" -v b="$services_before" 'BEGIN { print a - b }')" -v pc="$ping_cpu" -v n="$(wc -w <<<"$pids_after")" -v st="$started" \
        'BEGIN { printf "round %d: %s tasks/s, lone task p50 %s ms, p99 %s ms; CPU s: session manager %.2f, services %.2f (%d, %d started), flmping %.2f\n", r, t, p50, p99, sm, sv, n, st, pc }'
done

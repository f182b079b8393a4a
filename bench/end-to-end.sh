#!/usr/bin/env bash
# End-to-end benchmark of the embedded default: starts a Release session manager (silo, gateway, embedded
# executor manager) on free loopback ports with a fresh data directory, warms it up with one short flmping run, then
# runs `flmping -p -t TASKS` ROUNDS times and prints, per round, flmping's figures and the CPU seconds that the session
# manager (with its executor manager), the service processes and flmping spent (from /proc/PID/stat). Round 1 is the
# cold one (a fresh process, still compiling); the last line sets it apart from the warm rounds.
#
#   bench/end-to-end.sh [TASKS=30000] [ROUNDS=5] [session manager options...]
#   e.g. bench/end-to-end.sh 30000 5 --Flame:Storage:Provider=Memory
#        bench/end-to-end.sh 30000 3 --Flame:ExecutorManager:TaskWindow=1
#
# Environment: FLAME_BENCH_BUILD=0 skips the publish; FLAME_BENCH_WARMUP (1000) tasks in the warm-up run;
# FLAME_BENCH_R2R=0 runs the programs JIT-compiled instead of ReadyToRun (as deploy/Dockerfile publishes them);
# FLAME_BENCH_CLIENT=standard runs bench/standard_rpc_client.py (Python grpcio, CreateTask + WatchTask per task, with
# FLAME_BENCH_CLIENT_ARGS such as "--mode poll --in-flight 32") in the rounds instead of flmping (bench/standard-rpc.sh).
set -euo pipefail

readonly REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly TASKS="${1:-30000}"
readonly ROUNDS="${2:-5}"
shift $(( $# < 2 ? $# : 2 ))
readonly WARMUP="${FLAME_BENCH_WARMUP:-1000}"
readonly R2R="${FLAME_BENCH_R2R:-1}"
# Published, not built: ReadyToRun is a publish step. One folder per mode, so that both can be compared in turn.
readonly OUT="$REPO/artifacts/bench/$([[ "$R2R" == 1 ]] && echo r2r || echo jit)"
readonly SM_DLL="$OUT/session-manager/flame-session-manager.dll"
readonly PING_DLL="$OUT/flmping/flmping.dll"
readonly CLIENT="${FLAME_BENCH_CLIENT:-flmping}"
[[ "$CLIENT" == flmping || "$CLIENT" == standard ]] || { echo "end-to-end.sh: FLAME_BENCH_CLIENT is flmping or standard, not $CLIENT" >&2; exit 2; }

fail() { echo "end-to-end.sh: $*" >&2; exit 1; }
[[ "$TASKS" =~ ^[0-9]+$ && "$ROUNDS" =~ ^[0-9]+$ ]] || { echo "usage: bench/end-to-end.sh [TASKS] [ROUNDS] [session manager options...]" >&2; exit 2; }

publish() {
    dotnet publish "$REPO/$1" -c Release -r "linux-$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')" --self-contained false \
        -p:PublishReadyToRun="$([[ "$R2R" == 1 ]] && echo true || echo false)" \
        --artifacts-path "$REPO/artifacts/bench/build" -o "$OUT/$2" --nologo -v quiet >/dev/null \
        || fail "publish of $1 failed"
}
if [[ "${FLAME_BENCH_BUILD:-1}" == 1 ]]; then
    publish src/Flame.SessionManager session-manager
    # The built-in flmping application's service runs from the session manager's folder.
    publish src/Flame.PingService session-manager
    publish src/Flame.Cli/Flmping flmping
fi

source "$REPO/bench/ports.sh"

# CPU seconds (user + system) that a process has spent so far.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }

work=$(mktemp -d /tmp/flame-bench.XXXXXX)
free_port http; free_port silo; free_port gateway
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
    [[ "$CLIENT" == flmping ]] || fail "FLAME_BENCH_SECURED=1 runs with flmping only"
fi
# The rounds' client: flmping, or the standard-RPC client that is not ours (its stubs generated once, in $work).
export FLAME_PY_STUBS="$work/py"
run_client() {
    if [[ "$CLIENT" == flmping ]]; then
        dotnet "$PING_DLL" --endpoint "$endpoint" -p -t "$1"
    else
        # shellcheck disable=SC2086 # the extra arguments are words on purpose
        /usr/bin/python3 "$REPO/bench/standard_rpc_client.py" --endpoint "$endpoint" --tasks "$1" ${FLAME_BENCH_CLIENT_ARGS:-}
    fi
}
dotnet "$SM_DLL" --Flame:SessionManager:Endpoint="$endpoint" --Flame:SessionManager:BackendEndpoint=none "${secured[@]}" \
    --Flame:SessionManager:SiloPort="$silo" --Flame:SessionManager:OrleansGatewayPort="$gateway" \
    --Flame:Storage:DataDirectory="$work/data" --Flame:ExecutorManager:WorkDirectory="$work/em" "$@" \
    >"$work/session-manager.log" 2>&1 &
sm=$!
started_at=$(date +%s.%N)
trap 'kill $sm 2>/dev/null; wait $sm 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
    port_open "$http" && break
    kill -0 $sm 2>/dev/null || fail "the session manager exited: $(tail -n 1 "$work/session-manager.log")"
    sleep 0.1
done
port_open "$http" || fail "the session manager did not listen on $endpoint within 60 s"
listening=$(awk -v a="$(date +%s.%N)" -v b="$started_at" 'BEGIN { printf "%.1f", a - b }'); listening_cpu=$(cpu_of $sm)

echo "session manager $endpoint${secured[0]:+ (secured: TLS, admin token)}, $([[ "$R2R" == 1 ]] && echo ReadyToRun || echo JIT), client $CLIENT${FLAME_BENCH_CLIENT_ARGS:+ $FLAME_BENCH_CLIENT_ARGS}, options: ${*:-(defaults)}; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
run_client "$WARMUP" >"$work/warmup.log" 2>&1 || fail "warm-up failed: $(tail -n 3 "$work/warmup.log")"
echo "start-up: listening after $listening s (CPU s: session manager $listening_cpu); warm-up of $WARMUP tasks: $(grep -m1 'Throughput:' "$work/warmup.log" | tr -s ' ' | sed 's/^ *Throughput: *//') (CPU s: session manager $(cpu_of $sm) in all)"

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
    { time run_client "$TASKS" >"$work/round.log" 2>&1 || fail "round $round failed: $(tail -n 3 "$work/round.log")"; } 2>"$work/time"
    ping_cpu=$(awk '{ print $1 + $2 }' "$work/time")
    sm_after=$(cpu_of $sm); services_after=$(services_cpu)
    # A service started during the round (not kept from the last) spent its start-up in the round too.
    pids_after=$(service_pids); started=0
    for pid in $pids_after; do [[ " $pids_before " == *" $pid "* ]] || started=$((started + 1)); done
    throughput=$(grep -m1 'Throughput:' "$work/round.log" | awk '{ print $2 }')
    p50=$(grep 'Latency p50:' "$work/round.log" | tail -n 1 | awk '{ print $3 }')
    p99=$(grep 'Latency p99:' "$work/round.log" | tail -n 1 | awk '{ print $3 }')
    echo "$throughput" >>"$work/throughputs"
    awk -v r="$round" -v kind="$([[ $round == 1 ]] && echo cold || echo warm)" -v t="$throughput" -v p50="$p50" -v p99="$p99" -v sm="$(awk -v a="$sm_after" -v b="$sm_before" 'BEGIN { print a - b }')" \
        -v sv="$(awk -v a="$services_after" -v b="$services_before" 'BEGIN { print a - b }')" -v pc="$ping_cpu" -v n="$(wc -w <<<"$pids_after")" -v st="$started" -v client="$CLIENT" \
        'BEGIN { printf "round %d (%s): %s tasks/s, lone task p50 %s ms, p99 %s ms; CPU s: session manager %.2f, services %.2f (%d, %d started), %s %.2f\n", r, kind, t, p50, p99, sm, sv, n, st, client, pc }'
done
# The cold round apart from the warm ones: the first TASKS tasks of a fresh process (after the warm-up) against the rest.
sort -n <(tail -n +2 "$work/throughputs") | awk -v cold="$(head -n 1 "$work/throughputs")" -v mode="$([[ "$R2R" == 1 ]] && echo ReadyToRun || echo JIT)" \
    '{ w[NR] = $1 } END { printf "%s: cold %s tasks/s", mode, cold; if (NR) printf "; warm %s-%s, median %s tasks/s (%d rounds)", w[1], w[NR], w[int((NR + 1) / 2)], NR; print "" }'

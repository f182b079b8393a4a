#!/usr/bin/env bash
# Issue 20's benchmark: a session manager whose store holds SESSIONS open sessions (each with TASKS finished tasks)
# is started on that store, and prints the time from its start to the first answered CreateSession, its RSS then and
# once settled, the time `flmctl list -s` takes to list them all, and the scheduler pass time it logs.
#
#   bench/many-sessions.sh [SESSIONS=1000000] [TASKS=0]     e.g. bench/many-sessions.sh 100000 10
#
# The store is seeded directly with SQL (python3's sqlite3), not through the API: a million CreateSession calls take
# longer than the run is worth. The seed copies the rows of one session (and its tasks) made through the API, so the
# rows are what the session manager itself writes. They all have the owner `anonymous`, so the run raises
# Flame:Limits:MaxOpenSessionsPerOwner (whose count a restart reads from the store). FLAME_BENCH_BUILD=0 skips the publish.
set -euo pipefail

readonly REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SESSIONS="${1:-1000000}"
readonly TASKS="${2:-0}"
readonly OUT="$REPO/artifacts/bench/many"
readonly SM_DLL="$OUT/session-manager/flame-session-manager.dll"
readonly CTL_DLL="$OUT/flmctl/flmctl.dll"
readonly PY=/usr/bin/python3

fail() { echo "many-sessions.sh: $*" >&2; exit 1; }
[[ "$SESSIONS" =~ ^[0-9]+$ && "$TASKS" =~ ^[0-9]+$ ]] || { echo "usage: bench/many-sessions.sh [SESSIONS] [TASKS]" >&2; exit 2; }

publish() {
    dotnet publish "$REPO/$1" -c Release --artifacts-path "$REPO/artifacts/bench/build" -o "$OUT/$2" --nologo -v quiet >/dev/null \
        || fail "publish of $1 failed"
}
if [[ "${FLAME_BENCH_BUILD:-1}" == 1 ]]; then
    publish src/Flame.SessionManager session-manager
    publish src/Flame.Cli/Flmctl flmctl
fi

source "$REPO/bench/ports.sh"
rss_mib() { awk '/^VmRSS:/ { printf "%.0f\n", $2 / 1024 }' "/proc/$1/status"; }

work=$(mktemp -d /tmp/flame-many.XXXXXX)
free_port http; free_port silo; free_port gateway
endpoint="http://127.0.0.1:$http"
sm=""
trap '[[ -n "$sm" ]] && kill $sm 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

start() {
    dotnet "$SM_DLL" --Flame:SessionManager:Endpoint="$endpoint" --Flame:SessionManager:BackendEndpoint=none \
        --Flame:SessionManager:SiloPort="$silo" --Flame:SessionManager:OrleansGatewayPort="$gateway" \
        --Flame:SessionManager:RegisterBuiltInApplications=false --Flame:SessionManager:EmbeddedExecutorManager=false \
        --Flame:Storage:DataDirectory="$work/data" --Flame:Limits:MaxSessionsPerList=10000 \
        --Flame:Limits:MaxOpenSessionsPerOwner=100000000 \
        --Logging:LogLevel:Flame.Grains.Scheduling=Debug >>"$work/session-manager.log" 2>&1 &
    sm=$!
}
stop() { kill -9 "$sm"; wait "$sm" 2>/dev/null || true; sm=""; }

# A CreateSession over plain gRPC (hand-encoded protobuf, so that no generated code is needed), retried every 20 ms
# until one is answered; prints the seconds from $1 (a date +%s.%N) to that answer.
first_create() {
    "$PY" - "$endpoint" "$1" <<'PYEOF'
import sys, time, grpc
endpoint, started = sys.argv[1], float(sys.argv[2])
channel = grpc.insecure_channel(endpoint.removeprefix("http://"))
create = channel.unary_unary("/flame.v1.Frontend/CreateSession")
def field(number, payload):
    return bytes([number << 3 | 2, len(payload)]) + payload
spec = field(2, b"bench")
while True:
    try:
        create(field(1, f"first-{time.time_ns()}".encode()) + field(2, spec), timeout=30)
        print(f"{time.time() - started:.2f}")
        break
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.UNAVAILABLE:
            sys.exit(f"CreateSession failed: {error.code()} {error.details()}")
        time.sleep(0.02)
PYEOF
}

echo "# bench/many-sessions.sh $SESSIONS $TASKS ($(nproc) cores, $(dotnet --version), $(date -u +%FT%TZ))"

# 1. The model rows: the schema, an application and one session (with TASKS tasks) written by the session manager.
start
for _ in $(seq 1 600); do port_open "$http" && break; sleep 0.1; done
ctl() { dotnet "$CTL_DLL" --endpoint "$endpoint" "$@"; }
cat >"$work/app.yaml" <<YAML
metadata:
  name: bench
spec:
  command: /bin/true
YAML
ctl register -f "$work/app.yaml" >/dev/null
"$PY" - "$endpoint" "$TASKS" <<'PYEOF'
import sys, grpc
endpoint, tasks = sys.argv[1], int(sys.argv[2])
channel = grpc.insecure_channel(endpoint.removeprefix("http://"))
def field(number, payload):
    return bytes([number << 3 | 2, len(payload)]) + payload
channel.unary_unary("/flame.v1.Frontend/CreateSession")(field(1, b"model") + field(2, field(2, b"bench")), timeout=60)
for i in range(tasks):
    channel.unary_unary("/flame.v1.Frontend/CreateTask")(field(1, field(2, b"model") + field(3, b"input")), timeout=60)
PYEOF
stop

# 2. The seed: copies of the model session (ids bench-0000000…), their tasks marked Succeed with a small output.
seed_started=$(date +%s.%N)
"$PY" - "$work/data/flame.db" "$SESSIONS" "$TASKS" <<'PYEOF'
import sqlite3, sys
path, sessions, tasks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
db = sqlite3.connect(path)
app, json, created = db.execute("SELECT application, json, creation_time FROM flame_sessions WHERE id = 'model'").fetchone()
task_rows = db.execute("SELECT task_id, creation_time FROM flame_tasks WHERE session_id = 'model'").fetchall()
db.execute("DELETE FROM flame_tasks"); db.execute("DELETE FROM flame_sessions")
db.executemany("INSERT INTO flame_sessions (id, application, open, creation_time, completion_time, json) VALUES (?, ?, 1, ?, NULL, ?)",
               ((f"bench-{i:07d}", app, created + i // 1000, json) for i in range(sessions)))
db.executemany("INSERT INTO flame_tasks (session_id, task_id, state, attempts, creation_time, start_time, completion_time, input, output)"
               " VALUES (?, ?, 2, 1, ?, ?, ?, X'696E707574', X'6F7574707574')",
               ((f"bench-{i:07d}", t, c, c, c) for i in range(sessions) for (t, c) in task_rows))
db.commit()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
PYEOF
printf "seeded: %d open sessions, %d tasks in %.1f s; store %s\n" "$SESSIONS" "$((SESSIONS * TASKS))" \
    "$(echo "$(date +%s.%N) - $seed_started" | bc)" "$(du -sh "$work/data" | cut -f1)"

# 3. The restart.
started=$(date +%s.%N)
start
printf "first answered CreateSession after start: %s s (goal < 5 s)\n" "$(first_create "$started")"
printf "RSS after the first answer: %s MiB\n" "$(rss_mib "$sm")"
sleep 10
printf "RSS 10 s later: %s MiB (goal < 1024 MiB)\n" "$(rss_mib "$sm")"
grep -h "Recovery:" "$work/session-manager.log" | tail -n 1 | sed 's/^/recovery line: /'

# 4. The list, through the paged extension.
list_started=$(date +%s.%N)
listed=$(ctl --timeout 3600 list -s | tail -n +2 | wc -l)
printf "flmctl list -s: %d sessions in %.1f s\n" "$listed" "$(echo "$(date +%s.%N) - $list_started" | bc)"
printf "RSS after the list: %s MiB\n" "$(rss_mib "$sm")"

# 5. The scheduler: its passes with this store (it holds only the sessions that reported demand).
grep -h "Scheduling pass" "$work/session-manager.log" | tail -n 3 | sed 's/^/scheduler: /' || true
stop

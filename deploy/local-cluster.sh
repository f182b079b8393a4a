#!/usr/bin/env bash
# The topology of deploy/compose.yaml as plain processes on 127.0.0.1, without Docker: a throwaway PostgreSQL
# with the Orleans schema, two session managers (silos of one cluster, each with its gRPC gateway) and two
# executor managers (each on its own gateway first, the other on failover).
#
# Secured as a real cluster would be: a throwaway CA and per-silo certificates made at start (make-certs.sh), https
# gateways, mutual TLS between the silos, no anonymous access, an admin token (random, in a 0600 file), and executor
# managers that join with node tokens issued by `flmctl token create --role node`.
#
#   deploy/local-cluster.sh start     builds in Release, starts everything, waits until ready, prints the endpoints
#   deploy/local-cluster.sh status    one line per process, and the silos in the membership table
#   deploy/local-cluster.sh stop      stops every process and removes the PostgreSQL data (logs are kept)
#
# Environment (all optional):
#   FLAME_LOCAL_CLUSTER_DIR            state: cluster.env, pids/, logs/, work directories (/tmp/flame-local-cluster)
#   FLAME_LOCAL_CLUSTER_BUILD          1: build src/Flame.SessionManager and flmctl first; 0: use the
#                                      existing outputs (1)
#   FLAME_LOCAL_CLUSTER_CONFIGURATION  the build configuration whose bin/ outputs are run (Release)
#   FLAME_LOCAL_CLUSTER_SLOTS          executor slots per executor manager (2)
#   FLAME_LOCAL_CLUSTER_TIMEOUT        seconds that start waits for the cluster to be ready (120)
#   FLAME_POSTGRES_BIN                 PostgreSQL's server binaries (/usr/lib/postgresql/15/bin)
#   FLAME_POSTGRES_FSYNC               on: PostgreSQL flushes every commit to disk, as in production (for benchmarks);
#                                      off: throwaway data, faster (off)
#
# Ports are free loopback ports picked at start; `start` prints them and writes them to cluster.env, a file of
# KEY=VALUE lines (FLAME_ENDPOINT, GATEWAYS, FLAME_CA_FILE, FLAME_TOKEN_FILE, POSTGRES_URI, ...) that a shell can
# source (it exports the four a client needs: `source cluster.env; flmctl list -n` then just works). Errors are one line on
# stderr, exit code 1 (2 for a usage mistake).
set -euo pipefail

readonly NAME="local-cluster.sh"
readonly REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly STATE="${FLAME_LOCAL_CLUSTER_DIR:-/tmp/flame-local-cluster}"
readonly CONFIGURATION="${FLAME_LOCAL_CLUSTER_CONFIGURATION:-Release}"
readonly SLOTS="${FLAME_LOCAL_CLUSTER_SLOTS:-2}"
readonly TIMEOUT="${FLAME_LOCAL_CLUSTER_TIMEOUT:-120}"
readonly PG_BIN="${FLAME_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}"
readonly PG_FSYNC="${FLAME_POSTGRES_FSYNC:-off}"
readonly SESSION_MANAGER_DLL="$REPO/src/Flame.SessionManager/bin/$CONFIGURATION/net10.0/flame-session-manager.dll"
readonly EXECUTOR_MANAGER_DLL="$REPO/src/Flame.ExecutorManager/bin/$CONFIGURATION/net10.0/flame-executor-manager.dll"
readonly FLMCTL_DLL="$REPO/src/Flame.Cli/Flmctl/bin/$CONFIGURATION/net10.0/flmctl.dll"
readonly SESSION_MANAGERS=(session-manager-1 session-manager-2)
readonly EXECUTOR_MANAGERS=(executor-manager-1 executor-manager-2)
readonly TLS_DIR="$STATE/tls"
readonly CA_FILE="$TLS_DIR/ca.pem"
readonly TOKENS="$STATE/tokens"
readonly ADMIN_TOKEN_FILE="$TOKENS/admin.token"

fail() { echo "$NAME: $*" >&2; exit 1; }

# The last non-empty line of a log file, for one-line errors.
last_line() { [[ -f "$1" ]] && grep -v '^[[:space:]]*$' "$1" | tail -n 1 | cut -c1-300 || true; }

# PostgreSQL refuses to run as root: as root, run its server tools as the postgres user.
as_postgres() {
    if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_cluster() { # SQL → unaligned, tuples only
    psql -X -q -tA -v ON_ERROR_STOP=1 -d "$POSTGRES_URI" -c "$1"
}

# Sets variable $1 to a loopback TCP port nobody listens on, never one handed out before by this run.
TAKEN_PORTS=" "
free_port() {
    local port attempt
    for attempt in $(seq 1 200); do
        port=$((20000 + RANDOM % 12000))   # below Linux's ephemeral range (32768+), where clients' ports come from
        [[ "$TAKEN_PORTS" == *" $port "* ]] && continue
        if ! port_open "$port"; then
            TAKEN_PORTS+="$port "
            printf -v "$1" '%s' "$port"
            return
        fi
    done
    fail "no free loopback port found"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True when pid file $1 names a live process whose command line contains $2 (so a recycled pid is never killed).
alive() {
    local pid
    [[ -f "$1" ]] || return 1
    pid="$(cat "$1")"
    [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

# Starts a program in a process group of its own (so stop can signal it with the services it started).
launch() { # name, command...
    local name="$1"
    shift
    setsid "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null &
    echo $! >"$STATE/pids/$name.pid"
}

# SIGTERM to a process group, SIGKILL after a grace period; waits until the group leader is gone.
terminate() { # name, command-line marker
    local pidfile="$STATE/pids/$1.pid" pid deadline
    if alive "$pidfile" "$2"; then
        pid="$(cat "$pidfile")"
        kill -TERM -- "-$pid" 2>/dev/null || true
        deadline=$((SECONDS + 15))
        while alive "$pidfile" "$2" && ((SECONDS < deadline)); do sleep 0.2; done
        if alive "$pidfile" "$2"; then
            kill -KILL -- "-$pid" 2>/dev/null || true
            deadline=$((SECONDS + 5))
            while alive "$pidfile" "$2" && ((SECONDS < deadline)); do sleep 0.2; done
        fi
    fi
    rm -f "$pidfile"
}

load_state() {
    [[ -f "$STATE/cluster.env" ]] || return 1
    # shellcheck source=/dev/null
    source "$STATE/cluster.env"
}

any_alive() {
    local name
    for name in "${EXECUTOR_MANAGERS[@]}"; do alive "$STATE/pids/$name.pid" flame-executor-manager && return 0; done
    for name in "${SESSION_MANAGERS[@]}"; do alive "$STATE/pids/$name.pid" flame-session-manager && return 0; done
    [[ -n "${POSTGRES_DATA:-}" && -f "$POSTGRES_DATA/data/postmaster.pid" ]]
}

stop_all() {
    local name
    load_state || true
    for name in "${EXECUTOR_MANAGERS[@]}"; do terminate "$name" flame-executor-manager; done
    for name in "${SESSION_MANAGERS[@]}"; do terminate "$name" flame-session-manager; done
    if [[ -n "${POSTGRES_DATA:-}" && -d "$POSTGRES_DATA" ]]; then
        if [[ -f "$POSTGRES_DATA/data/postmaster.pid" ]]; then
            as_postgres "$PG_BIN/pg_ctl" -D "$POSTGRES_DATA/data" -m immediate -w -t 30 stop >/dev/null 2>&1 \
                || kill -KILL "$(head -n 1 "$POSTGRES_DATA/data/postmaster.pid")" 2>/dev/null || true
        fi
        rm -rf "$POSTGRES_DATA"
    fi
    rm -rf "$STATE/pids" "$STATE/work" "$STATE/cluster.env" "$TLS_DIR" "$TOKENS"
}

# flmctl as the cluster's administrator, over TLS.
flmctl_admin() {
    FLAME_CA_FILE="$CA_FILE" FLAME_TOKEN_FILE="$ADMIN_TOKEN_FILE" dotnet "$FLMCTL_DLL" "$@"
}

# The CA, one certificate per silo, the admin token. Keys and tokens are 0600.
make_credentials() {
    "$REPO/deploy/make-certs.sh" "$TLS_DIR" "${SESSION_MANAGERS[@]}" >"$STATE/logs/certs.log" 2>&1 \
        || fail "certificates not made: $(last_line "$STATE/logs/certs.log")"
    (umask 077 && mkdir -p "$TOKENS" && head -c 32 /dev/urandom | base64 | tr -d '+/=\n' >"$ADMIN_TOKEN_FILE")
}

# A node token for node $1, issued through the first gateway, in $TOKENS/$1.token (0600).
issue_node_token() {
    (umask 077 && flmctl_admin token create --name "$1" --role node --node "$1" \
        --endpoint "https://127.0.0.1:${GATEWAY_PORTS[0]}" >"$TOKENS/$1.token" 2>>"$STATE/logs/tokens.log") \
        || fail "node token for $1 not issued: $(last_line "$STATE/logs/tokens.log")"
}

# Waits until "$@" succeeds, at most until the start deadline; fails with $1's description otherwise.
wait_for() { # description, command...
    local what="$1"
    shift
    until "$@"; do
        check_processes
        ((SECONDS < DEADLINE)) || fail "timed out after ${TIMEOUT}s waiting for $what; logs in $STATE/logs"
        sleep 0.2
    done
}

# True while the process of pid file $1 exists and is not a zombie. During start a process may not have exec'd its
# program yet (its command line is still this script's), so start checks only that it has not exited.
running() {
    local pid state
    [[ -f "$1" ]] || return 1
    pid="$(cat "$1")"
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z ]]
}

# Fails as soon as a started process has exited, naming it and quoting its last log line.
check_processes() {
    local name
    for name in "${SESSION_MANAGERS[@]}"; do
        running "$STATE/pids/$name.pid" \
            || fail "$name exited during start: $(last_line "$STATE/logs/$name.log") (log: $STATE/logs/$name.log)"
    done
    for name in "${EXECUTOR_MANAGERS[@]}"; do
        [[ -f "$STATE/pids/$name.pid" ]] || continue
        running "$STATE/pids/$name.pid" \
            || fail "$name exited during start: $(last_line "$STATE/logs/$name.log") (log: $STATE/logs/$name.log)"
    done
}

active_silos() { psql_cluster "SELECT count(*) FROM orleansmembershiptable WHERE status = 3" 2>/dev/null; }
all_silos_active() { [[ "$(active_silos)" == "${#SESSION_MANAGERS[@]}" ]]; }

node_registered() { grep -q "Node $1 registered with the gateway" "$STATE/logs/$2.log" 2>/dev/null; }
# Registered is not yet schedulable: the cluster view shows a node Ready once its WatchNode stream is open, and
# that view is what clients (and the scheduler) see. Asked through the first gateway.
nodes_ready() {
    local ready
    ready="$(flmctl_admin list -n --endpoint "https://127.0.0.1:${GATEWAY_PORTS[0]}" 2>/dev/null | grep -c ' Ready ')"
    [[ "$ready" == "${#EXECUTOR_MANAGERS[@]}" ]]
}

start_postgres() {
    [[ -x "$PG_BIN/pg_ctl" ]] || fail "PostgreSQL server binaries not found in $PG_BIN (set FLAME_POSTGRES_BIN)"
    [[ "$PG_FSYNC" == on || "$PG_FSYNC" == off ]] || fail "FLAME_POSTGRES_FSYNC must be on or off, not '$PG_FSYNC'"
    command -v psql >/dev/null || fail "psql not found (install the PostgreSQL client)"
    free_port POSTGRES_PORT
    # Outside the state directory, which the postgres user may not be able to enter.
    POSTGRES_DATA="$(mktemp -d /tmp/flame-local-pg.XXXXXX)"
    POSTGRES_URI="postgresql://postgres@127.0.0.1:$POSTGRES_PORT/flame"
    echo "POSTGRES_DATA=$POSTGRES_DATA" >>"$STATE/cluster.env"
    [[ $EUID -ne 0 ]] || chown postgres: "$POSTGRES_DATA"
    as_postgres "$PG_BIN/initdb" -D "$POSTGRES_DATA/data" -U postgres --auth=trust -E UTF8 --no-sync \
        >"$STATE/logs/initdb.log" 2>&1 || fail "initdb failed: $(last_line "$STATE/logs/initdb.log")"
    # Throwaway data: no fsync unless asked. max_connections: each silo's Npgsql pool, with room to spare.
    as_postgres "$PG_BIN/pg_ctl" -D "$POSTGRES_DATA/data" -l "$POSTGRES_DATA/postgres.log" -w -t 60 start \
        -o "-p $POSTGRES_PORT -c listen_addresses=127.0.0.1 -k $POSTGRES_DATA -c max_connections=200 -c fsync=$PG_FSYNC" \
        >/dev/null 2>&1 || fail "PostgreSQL did not start on port $POSTGRES_PORT: $(last_line "$POSTGRES_DATA/postgres.log")"
    psql -X -q -v ON_ERROR_STOP=1 -d "postgresql://postgres@127.0.0.1:$POSTGRES_PORT/postgres" \
        -c "CREATE DATABASE flame" >/dev/null 2>"$STATE/logs/createdb.log" \
        || fail "cannot create the database: $(last_line "$STATE/logs/createdb.log")"
    "$REPO/deploy/postgres/apply.sh" "$POSTGRES_URI" >"$STATE/logs/schema.log" 2>&1 \
        || fail "schema not applied: $(last_line "$STATE/logs/schema.log")"
}

start_session_manager() { # index (1-based)
    local name="${SESSION_MANAGERS[$1 - 1]}" gateway_port backend_port silo_port orleans_port
    free_port gateway_port
    free_port backend_port   # the Backend's own port (Flame's executor managers dial it); gateway + 1 may be taken
    free_port silo_port
    free_port orleans_port
    GATEWAY_PORTS+=("$gateway_port")
    {
        echo "SESSION_MANAGER_$1_GATEWAY=https://127.0.0.1:$gateway_port"
        echo "SESSION_MANAGER_$1_SILO=127.0.0.1:$silo_port"
    } >>"$STATE/cluster.env"
    launch "$name" dotnet "$SESSION_MANAGER_DLL" \
        "--Flame:SessionManager:Name=$name" \
        "--Flame:SessionManager:Endpoint=https://127.0.0.1:$gateway_port" \
        "--Flame:Security:Tls:CertificateFile=$TLS_DIR/$name.pem" \
        "--Flame:Security:Tls:KeyFile=$TLS_DIR/$name-key.pem" \
        "--Flame:Security:Tls:CaFile=$CA_FILE" \
        "--Flame:Security:Anonymous=None" \
        "--Flame:Security:AdminTokenFile=$ADMIN_TOKEN_FILE" \
        "--Flame:SessionManager:BackendEndpoint=https://127.0.0.1:$backend_port" \
        "--Flame:SessionManager:SiloPort=$silo_port" \
        "--Flame:SessionManager:OrleansGatewayPort=$orleans_port" \
        "--Flame:SessionManager:EmbeddedExecutorManager=false" \
        "--Flame:Cluster:Provider=Postgres" \
        "--Flame:Cluster:ConnectionString=Host=127.0.0.1;Port=$POSTGRES_PORT;Username=postgres;Database=flame" \
        "--Flame:Cluster:AdvertisedAddress=127.0.0.1" \
        "--Logging:Console:FormatterName=simple" \
        "--Logging:Console:FormatterOptions:SingleLine=true"
}

start_executor_manager() { # index (1-based): executor-manager-N uses session-manager-N's gateway, the other on failover
    local name="${EXECUTOR_MANAGERS[$1 - 1]}" node="em-$1" work="$STATE/work/em-$1"
    local first="https://127.0.0.1:${GATEWAY_PORTS[$1 - 1]}" second="https://127.0.0.1:${GATEWAY_PORTS[2 - $1]}"
    mkdir -p "$work"
    # The node runs the built-in flmping service (next to the session manager) and the Pi sample, nothing else.
    launch "$name" env Flame__ExecutorManager__HeartbeatInterval=00:00:01 \
        Flame__ExecutorManager__AllowedCommands__0="$(dirname "$SESSION_MANAGER_DLL")/flmping-service.dll" \
        Flame__ExecutorManager__AllowedCommands__1="$REPO/samples/Pi/PiClient/bin/$CONFIGURATION/net10.0" \
        Logging__Console__FormatterName=simple Logging__Console__FormatterOptions__SingleLine=true \
        dotnet "$EXECUTOR_MANAGER_DLL" \
        --endpoint "$first,$second" --slots "$SLOTS" --node "$node" --work-dir "$work" \
        --ca-file "$CA_FILE" --token-file "$TOKENS/$node.token"
}

start() {
    local i
    if load_state && any_alive; then
        fail "a cluster is already running in $STATE; run '$0 stop' first (or set FLAME_LOCAL_CLUSTER_DIR)"
    fi
    stop_all   # the leftovers of a crashed run, if any
    command -v dotnet >/dev/null || fail "dotnet not found on PATH"
    mkdir -p "$STATE/pids" "$STATE/work"
    rm -rf "$STATE/logs" && mkdir -p "$STATE/logs"
    # From here on, a failure stops what was started (the logs stay).
    trap 'status=$?; if ((status != 0)); then stop_all; fi' EXIT
    if [[ "${FLAME_LOCAL_CLUSTER_BUILD:-1}" == 1 ]]; then
        echo "building ($CONFIGURATION) ..."
        # The session manager's build also builds the executor manager into its own bin/ folder (a project reference).
        local project
        for project in src/Flame.SessionManager/Flame.SessionManager.csproj src/Flame.Cli/Flmctl/Flmctl.csproj; do
            dotnet build -c "$CONFIGURATION" --nologo -v quiet "$REPO/$project" >>"$STATE/logs/build.log" 2>&1 \
                || fail "build failed: $(grep -m1 ' error ' "$STATE/logs/build.log" || last_line "$STATE/logs/build.log")"
        done
    fi
    local dll
    for dll in "$SESSION_MANAGER_DLL" "$EXECUTOR_MANAGER_DLL" "$FLMCTL_DLL"; do
        [[ -f "$dll" ]] || fail "$dll not found: build with 'dotnet build -c $CONFIGURATION src/Flame.SessionManager' and src/Flame.Cli/Flmctl"
    done
    : >"$STATE/cluster.env"
    DEADLINE=$((SECONDS + TIMEOUT))

    make_credentials
    start_postgres
    echo "POSTGRES_URI=$POSTGRES_URI" >>"$STATE/cluster.env"
    GATEWAY_PORTS=()
    for i in 1 2; do start_session_manager "$i"; done
    for i in 1 2; do wait_for "the gateway of ${SESSION_MANAGERS[$i - 1]} on port ${GATEWAY_PORTS[$i - 1]}" port_open "${GATEWAY_PORTS[$i - 1]}"; done
    wait_for "both silos to be Active in the membership table" all_silos_active
    for i in 1 2; do issue_node_token "em-$i"; done
    for i in 1 2; do start_executor_manager "$i"; done
    for i in 1 2; do wait_for "node em-$i to register with its gateway" node_registered "em-$i" "${EXECUTOR_MANAGERS[$i - 1]}"; done
    wait_for "both nodes to be Ready in the cluster view" nodes_ready
    {
        echo "FLAME_ENDPOINT=https://127.0.0.1:${GATEWAY_PORTS[0]}"
        echo "GATEWAYS=https://127.0.0.1:${GATEWAY_PORTS[0]},https://127.0.0.1:${GATEWAY_PORTS[1]}"
        echo "FLAME_CA_FILE=$CA_FILE"
        echo "FLAME_TOKEN_FILE=$ADMIN_TOKEN_FILE"
        echo "export FLAME_ENDPOINT GATEWAYS FLAME_CA_FILE FLAME_TOKEN_FILE"
    } >>"$STATE/cluster.env"
    trap - EXIT

    echo "local cluster ready (state: $STATE)"
    print_endpoints
}

print_endpoints() {
    load_state
    printf '  %-20s %s\n' postgres "$POSTGRES_URI"
    printf '  %-20s %s  (silo %s)\n' session-manager-1 "$SESSION_MANAGER_1_GATEWAY" "$SESSION_MANAGER_1_SILO"
    printf '  %-20s %s  (silo %s)\n' session-manager-2 "$SESSION_MANAGER_2_GATEWAY" "$SESSION_MANAGER_2_SILO"
    printf '  %-20s node em-1, %s slots, gateways %s,%s\n' executor-manager-1 "$SLOTS" "$SESSION_MANAGER_1_GATEWAY" "$SESSION_MANAGER_2_GATEWAY"
    printf '  %-20s node em-2, %s slots, gateways %s,%s\n' executor-manager-2 "$SLOTS" "$SESSION_MANAGER_2_GATEWAY" "$SESSION_MANAGER_1_GATEWAY"
    echo "secured: CA $FLAME_CA_FILE, admin token in $FLAME_TOKEN_FILE (mode 0600)"
    echo "source $STATE/cluster.env   # exports FLAME_ENDPOINT, GATEWAYS, FLAME_CA_FILE, FLAME_TOKEN_FILE"
}

status() {
    local name down=0
    load_state || { echo "not running (no state in $STATE)"; exit 3; }
    if [[ -n "${POSTGRES_DATA:-}" ]] && as_postgres "$PG_BIN/pg_ctl" -D "$POSTGRES_DATA/data" status >/dev/null 2>&1; then
        printf '%-20s running   %s\n' postgres "${POSTGRES_URI:-}"
    else
        printf '%-20s stopped\n' postgres
        down=1
    fi
    for name in "${SESSION_MANAGERS[@]}" "${EXECUTOR_MANAGERS[@]}"; do
        if alive "$STATE/pids/$name.pid" "flame-${name%-[0-9]}"; then
            printf '%-20s running   pid %s\n' "$name" "$(cat "$STATE/pids/$name.pid")"
        else
            printf '%-20s stopped\n' "$name"
            down=1
        fi
    done
    if ((down == 0)) && [[ -n "${POSTGRES_URI:-}" ]]; then
        echo "silos (membership table):"
        psql_cluster "SELECT '  ' || siloname || ' ' || address || ':' || port || ' ' ||
            CASE status WHEN 1 THEN 'Created' WHEN 2 THEN 'Joining' WHEN 3 THEN 'Active' WHEN 4 THEN 'ShuttingDown'
                        WHEN 5 THEN 'Stopping' WHEN 6 THEN 'Dead' ELSE status::text END
            FROM orleansmembershiptable ORDER BY siloname, generation" || fail "cannot read the membership table"
        [[ -n "${FLAME_ENDPOINT:-}" ]] && echo "export FLAME_ENDPOINT=$FLAME_ENDPOINT"
    fi
    return "$down"
}

case "${1:-}" in
    start) [[ $# -eq 1 ]] || fail "usage: $NAME start|stop|status"; start ;;
    stop)
        [[ $# -eq 1 ]] || fail "usage: $NAME start|stop|status"
        if [[ -f "$STATE/cluster.env" ]]; then stop_all; echo "stopped (logs kept in $STATE/logs)"; else echo "not running"; fi ;;
    status) [[ $# -eq 1 ]] || fail "usage: $NAME start|stop|status"; status ;;
    *) echo "usage: $NAME start|stop|status  (see the comment at the top of deploy/local-cluster.sh)" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# deploy/compose-smoke.sh: the images of deploy/Dockerfile really run deploy/compose.yaml.
#
# Builds the session-manager, executor-manager and certs images with the container engine that is there (docker
# when `docker info` answers, else podman), starts compose.yaml (PostgreSQL, two session managers, two executor
# managers), runs flmping through session-manager-1's gateway and the Pi sample through session-manager-2's, kills
# session-manager-1's container while the Pi session runs and sees that session finish with its estimate, then tears
# everything down. Exit 0 when all of that
# held; otherwise one line "compose-smoke: FAILED: ..." on stderr (with the logs above it) and exit 1 (2 for a
# usage mistake, 124 when it ran out of time).
#
# The Dockerfile names the official bases (mcr.microsoft.com/dotnet/sdk and aspnet, debian:bookworm-slim, and
# compose.yaml postgres:15). A base the engine does not have is replaced by a local stand-in under the same name
# (deploy/standins/): a Debian bookworm made with debootstrap (cached in FLAME_SMOKE_CACHE) with this machine's
# .NET, or with Debian's PostgreSQL 15. Whatever the script built or started is removed on exit, failed or not.
#
# Variables: FLAME_SMOKE_ENGINE (docker|podman), FLAME_SMOKE_CACHE (default ~/.cache/flame-compose-smoke: the
# debootstrap tarball), FLAME_SMOKE_TIMEOUT (seconds for the whole run, default 1500), FLAME_SMOKE_KEEP_IMAGES=1
# (keep the images it built, for a faster next run), FLAME_SMOKE_PULL=1 (pull a missing official base before
# building a stand-in), FLAME_SMOKE_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

timeout_seconds=${FLAME_SMOKE_TIMEOUT:-1500}
case "$timeout_seconds" in '' | *[!0-9]*) echo "compose-smoke: FLAME_SMOKE_TIMEOUT must be whole seconds, not '$timeout_seconds'" >&2; exit 2 ;; esac
[ $# -eq 0 ] || { echo "usage: deploy/compose-smoke.sh (no arguments; see the variables at its top)" >&2; exit 2; }
# Bounded: the whole run under `timeout`, which signals this script (its trap tears down) and, 60 s later, kills it.
if [ -z "${FLAME_SMOKE_BOUNDED:-}" ]; then
    FLAME_SMOKE_BOUNDED=1 timeout -k 60 "$timeout_seconds" "$0" "$@" && exit 0 || status=$?
    [ "$status" -eq 124 ] && echo "compose-smoke: FAILED: timed out after $timeout_seconds s (FLAME_SMOKE_TIMEOUT)" >&2
    exit "$status"
fi

deploy=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$deploy")
cache=${FLAME_SMOKE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flame-compose-smoke}
mirror=${FLAME_SMOKE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
state=$(mktemp -d "${TMPDIR:-/tmp}/flame-compose-smoke.XXXXXX")
project="flamesmoke$$"
tag="smoke-$$"
started=$(date +%s)
created_images=()
service_pid=""
healthcheck_pid=""
pi_pid=""
compose=()

say() { printf 'compose-smoke: [%4ss] %s\n' "$(($(date +%s) - started))" "$*"; }
fail() { echo "compose-smoke: FAILED: $*" >&2; exit 1; }

# Runs "$@" quietly into a log; on failure prints the log's tail and fails with the message.
run_logged() {
    local what=$1 log="$state/$2.log" status=0; shift 2
    "$@" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        tail -n 40 "$log" >&2
        fail "$what (exit code $status; the last lines of its log are above)"
    fi
}

# Polls "$@" every 2 s until it succeeds; fails with the description after the given seconds.
wait_until() {
    local what=$1 seconds=$2 deadline; shift 2
    deadline=$(($(date +%s) + seconds))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "$what: not within $seconds s"
        sleep 2
    done
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    [ -n "$pi_pid" ] && kill "$pi_pid" 2>/dev/null
    [ -n "$healthcheck_pid" ] && kill "$healthcheck_pid" 2>/dev/null
    if [ "$status" -ne 0 ] && [ ${#compose[@]} -gt 0 ]; then
        echo "--- compose logs (last lines of each service)" >&2
        "${compose[@]}" logs --no-color --tail 25 >&2 2>/dev/null
    fi
    if [ ${#compose[@]} -gt 0 ]; then
        "${compose[@]}" down -v --remove-orphans --timeout 10 >"$state/down.log" 2>&1 \
            || { echo "compose-smoke: compose down failed:" >&2; tail -n 20 "$state/down.log" >&2; }
        # Whatever compose down left (it fails when a signal stopped the engine's service too early).
        local label="label=com.docker.compose.project=$project"
        "$engine" ps -aq --filter "$label" | xargs -r "$engine" rm -f >/dev/null 2>&1
        "$engine" volume ls -q --filter "$label" | xargs -r "$engine" volume rm -f >/dev/null 2>&1
        "$engine" network ls -q --filter "$label" | xargs -r "$engine" network rm -f >/dev/null 2>&1
    fi
    if [ "${FLAME_SMOKE_KEEP_IMAGES:-0}" != 1 ] && [ ${#created_images[@]} -gt 0 ]; then
        "$engine" rmi -f "${created_images[@]}" >/dev/null 2>&1
        # The untagged images of the builds' other stages, made by this run.
        comm -13 "$state/dangling-before" <("$engine" images -q --no-trunc --filter dangling=true | sort -u) \
            | xargs -r "$engine" rmi -f >/dev/null 2>&1
    fi
    [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
    rm -rf "$state"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 124' TERM

# --- The engine and compose.
engine=${FLAME_SMOKE_ENGINE:-}
if [ -z "$engine" ]; then
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker
    elif command -v podman >/dev/null; then engine=podman
    else fail "no container engine: neither a docker that answers 'docker info' nor podman"; fi
fi
case "$engine" in docker | podman) ;; *) echo "compose-smoke: FLAME_SMOKE_ENGINE must be docker or podman, not '$engine'" >&2; exit 2 ;; esac
command -v "$engine" >/dev/null || fail "FLAME_SMOKE_ENGINE=$engine is not on the PATH"
if [ "$engine" = podman ]; then
    # Without it podman cannot start a container where the hard limit of open files is below its default.
    if ! grep -qs '^[[:space:]]*default_ulimits[[:space:]]*=[[:space:]]*\[\]' /etc/containers/containers.conf ${CONTAINERS_CONF:+"$CONTAINERS_CONF"}; then
        fail "podman needs 'default_ulimits = []' under [containers] in /etc/containers/containers.conf (see deploy/README.md)"
    fi
fi

compose_files=(-f "$deploy/compose.yaml" -f "$deploy/compose.smoke.yaml")
if [ "$engine" = docker ] && docker compose version >/dev/null 2>&1; then
    compose=(docker compose -p "$project" "${compose_files[@]}")
elif command -v docker-compose >/dev/null; then
    compose=(docker-compose -p "$project" "${compose_files[@]}")
    if [ "$engine" = podman ]; then
        # docker-compose speaks the Docker API: podman serves it on a socket of this run.
        export DOCKER_HOST="unix://$state/podman.sock"
        # In a session of its own: the signal of `timeout` to this script's group must leave it serving compose down.
        setsid podman system service --time=0 "$DOCKER_HOST" >"$state/podman-service.log" 2>&1 &
        service_pid=$!
        wait_until "podman system service to answer on $DOCKER_HOST" 30 docker-compose "${compose_files[@]}" -p "$project" ps
    fi
elif [ "$engine" = podman ] && command -v podman-compose >/dev/null; then
    compose=(podman-compose -p "$project" "${compose_files[@]}")
else
    fail "no compose: install docker-compose (Debian: docker-compose) or podman-compose"
fi
"$engine" images -q --no-trunc --filter dangling=true | sort -u >"$state/dangling-before"
compose_tmp=("${compose[@]}"); compose=()   # nothing to tear down until `up` runs
say "engine $engine, compose: ${compose_tmp[0]}"

# --- Base images: the official ones when the engine has them, local stand-ins under their names otherwise.
has_image() { "$engine" image inspect "$1" >/dev/null 2>&1; }

debian_base="localhost/flame-smoke-debian:bookworm"
ensure_debian_base() {
    has_image "$debian_base" && return 0
    local tarball="$cache/debian-bookworm-minbase.tar"
    if [ ! -s "$tarball" ]; then
        command -v debootstrap >/dev/null || fail "debootstrap is needed to make the Debian base of the stand-ins (Debian: debootstrap)"
        say "debootstrap of Debian bookworm into $tarball (once; reused while it exists)"
        mkdir -p "$cache"
        # The libraries .NET needs (as the official runtime-deps image has them), openssl for the certs image.
        run_logged "debootstrap of Debian bookworm from $mirror" debootstrap \
            debootstrap --variant=minbase --include=ca-certificates,libicu72,libssl3,openssl,tzdata,zlib1g \
            bookworm "$state/rootfs" "$mirror"
        tar -C "$state/rootfs" -cf "$tarball.new" . && mv "$tarball.new" "$tarball"
        rm -rf "$state/rootfs"
    fi
    run_logged "import of $tarball" import "$engine" import --change 'CMD ["bash"]' "$tarball" "$debian_base"
    created_images+=("$debian_base")
}

standin() {  # NAME KIND: makes the stand-in for the official image NAME unless the engine has it
    local name=$1 kind=$2
    if has_image "$name"; then say "base $name: present"; return 0; fi
    if [ "${FLAME_SMOKE_PULL:-0}" = 1 ] && "$engine" pull -q "$name" >/dev/null 2>&1; then say "base $name: pulled"; return 0; fi
    ensure_debian_base
    say "base $name: building a local stand-in ($kind)"
    case "$kind" in
        debian) run_logged "tag of the Debian base as $name" "tag-$kind" "$engine" tag "$debian_base" "$name" ;;
        aspnet | sdk)
            local dotnet_root context="$state/dotnet-context"
            dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")") || fail "the .NET stand-ins need dotnet on the PATH"
            if [ ! -d "$context" ]; then
                mkdir -p "$context"
                cp -al "$dotnet_root" "$context/dotnet" 2>/dev/null || cp -a "$dotnet_root" "$context/dotnet"
                cp /etc/ssl/certs/ca-certificates.crt "$context/ca-certificates.crt"
            fi
            run_logged "build of the stand-in $name" "standin-$kind" "$engine" build \
                --build-arg "BASE=$debian_base" -f "$deploy/standins/dotnet.Dockerfile" --target "$kind" -t "$name" "$context" ;;
        postgres)
            run_logged "build of the stand-in $name" "standin-$kind" "$engine" build \
                --build-arg "BASE=$debian_base" -f "$deploy/standins/postgres.Dockerfile" -t "$name" "$deploy/standins" ;;
    esac
    created_images+=("$name")
}

dotnet_version=$(sed -n 's/^ARG DOTNET_VERSION=//p' "$deploy/Dockerfile")
standin "mcr.microsoft.com/dotnet/sdk:$dotnet_version" sdk
standin "mcr.microsoft.com/dotnet/aspnet:$dotnet_version" aspnet
standin "docker.io/library/debian:bookworm-slim" debian
standin "docker.io/library/postgres:15" postgres

# --- Flame's images, from deploy/Dockerfile as it is.
build_args=()
# podman can mount this machine's NuGet cache into the build stage: restore then downloads only what it lacks.
[ "$engine" = podman ] && [ -d "$HOME/.nuget/packages" ] && build_args+=(-v "$HOME/.nuget/packages:/root/.nuget/packages")
for target in session-manager executor-manager certs; do
    say "building flame-$target:$tag"
    created_images+=("flame-$target:$tag")
    run_logged "build of the $target image" "build-$target" "$engine" build "${build_args[@]}" \
        -f "$deploy/Dockerfile" --target "$target" -t "flame-$target:$tag" "$root"
done

# --- Compose up.
free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 30000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
}
export FLAME_TAG=$tag FLAME_GATEWAY_1_PORT FLAME_GATEWAY_2_PORT
FLAME_GATEWAY_1_PORT=$(free_port)
FLAME_GATEWAY_2_PORT=$(free_port)
compose=("${compose_tmp[@]}")

if [ "$engine" = podman ]; then
    # podman runs health checks from systemd timers; without systemd nobody runs them, so this run does, every 3 s,
    # for the containers of the project that have one (compose waits for "healthy" before the dependants).
    (
        while :; do
            for id in $(podman ps -q --filter "label=com.docker.compose.project=$project" 2>/dev/null); do
                podman healthcheck run "$id" >/dev/null 2>&1 || :
            done
            sleep 3
        done
    ) &
    healthcheck_pid=$!
fi

say "compose up (gateways on 127.0.0.1:$FLAME_GATEWAY_1_PORT and :$FLAME_GATEWAY_2_PORT)"
run_logged "compose up: a service did not start or become healthy" up "${compose[@]}" up -d --no-build

container() { "${compose[@]}" ps -q "$1" | head -n 1; }
client=$(container smoke-client)
[ -n "$client" ] || fail "the smoke-client container is not running"
in_client() { "$engine" exec "$client" "$@"; }
gateways="https://session-manager-1:8080,https://session-manager-2:8080"

# --- The cluster: both silos Active, both nodes Ready.
wait_until "flmctl health: both gateways serving and both silos Active" 120 in_client flmctl health --endpoint "$gateways"
nodes_ready() { [ "$(in_client flmctl list -n --endpoint "$gateways" | awk '$2 == "Ready" && ($1 == "em-1" || $1 == "em-2")' | wc -l)" -eq 2 ]; }
wait_until "both executor managers (em-1, em-2) Ready" 120 nodes_ready
say "cluster up: both silos Active, nodes em-1 and em-2 Ready"

# --- flmping through session-manager-1's gateway.
run_logged "flmping through session-manager-1's gateway" flmping in_client flmping --endpoint https://session-manager-1:8080 --tasks 20
say "flmping: 20 tasks through session-manager-1's gateway"

# --- The Pi sample through session-manager-2's gateway, and session-manager-1 killed while its session runs: the
# grains that silo held (the session's, the scheduler's, executors') move to the survivor and the session finishes.
in_client dotnet /opt/flame/samples/pi/pi-client.dll --endpoint https://session-manager-2:8080 \
    --app pi-smoke --tasks 40 --samples 20000000 --timeout 300 >"$state/pi.log" 2>&1 &
pi_pid=$!
pi_running() {
    kill -0 "$pi_pid" 2>/dev/null || return 0   # finished already: the check after the kill reports how
    in_client flmctl list -s --endpoint https://session-manager-2:8080 | awk '$3 == "pi-smoke" && $2 == "Open" && $7 >= 1 { found = 1 } END { exit !found }'
}
wait_until "a Pi session with a finished task" 180 pi_running
kill -0 "$pi_pid" 2>/dev/null || { cat "$state/pi.log" >&2; fail "pi-client ended before session-manager-1 could be killed mid-run"; }
say "Pi session running; killing session-manager-1's container"
"$engine" kill --signal KILL "$(container session-manager-1)" >/dev/null || fail "could not kill session-manager-1's container"

pi_status=0
wait "$pi_pid" || pi_status=$?
pi_pid=""
if [ "$pi_status" -ne 0 ] || ! grep -q '^pi is about 3\.1[34]' "$state/pi.log"; then
    cat "$state/pi.log" >&2
    fail "the Pi session did not finish with an estimate after session-manager-1 was killed (pi-client exit code $pi_status)"
fi
say "Pi session finished after the kill: $(grep '^pi is about' "$state/pi.log")"
say "all held: images built, compose up, flmping, Pi with a session manager killed"

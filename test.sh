#!/usr/bin/env bash
# The one test command: builds everything and runs every test project, then prints one line
# "N passed, N failed, N skipped" summed over all of them. Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")"

results="artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

dotnet build Flame.Orleans.sln -c Release -warnaserror --nologo -v quiet || { echo "0 passed, 1 failed"; echo "build failed" >&2; exit 1; }

# deploy/compose-smoke.sh (the images built and compose.yaml run with podman or docker, a session manager killed
# mid-session) runs beside the .NET tests when FLAME_COMPOSE_SMOKE=1: most of its time is spent in image builds and
# waiting for containers. Off by default (counted as skipped) until it has passed within CI's time on a quiet
# machine: a first image build took 21 minutes at load 60-100. Bounded at 15 minutes here (FLAME_SMOKE_TIMEOUT).
smoke_pid=""
if [ "${FLAME_COMPOSE_SMOKE:-0}" != 0 ]; then
  FLAME_SMOKE_TIMEOUT="${FLAME_SMOKE_TIMEOUT:-900}" deploy/compose-smoke.sh >"$results/compose-smoke.log" 2>&1 &
  smoke_pid=$!
fi

status=0
dotnet test Flame.Orleans.sln -c Release --no-build --nologo \
  --logger "trx" --results-directory "$results" \
  --blame-hang-timeout 5m -- xUnit.ParallelizeTestCollections=true || status=$?

# Sum the counters of every .trx file: the dotnet test summary is per project.
read -r passed failed skipped < <(
  cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*>' | awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]); c[kv[1]] += kv[2] } }
    END { printf "%d %d %d\n", c["passed"], c["failed"] + c["error"] + c["timeout"] + c["aborted"], c["notExecuted"] }')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ -z "$smoke_pid" ]; then
  skipped=$((skipped + 1))
elif wait "$smoke_pid"; then
  passed=$((passed + 1))
  echo "deploy/compose-smoke.sh passed: $(tail -n 1 "$results/compose-smoke.log")"
else
  failed=$((failed + 1)); status=1
  echo "deploy/compose-smoke.sh failed (full log: $results/compose-smoke.log):" >&2
  tail -n 60 "$results/compose-smoke.log" >&2
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"

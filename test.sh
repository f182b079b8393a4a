#!/usr/bin/env bash
# The one test command: builds everything and runs every test project, then prints one line
# "N passed, N failed, N skipped" summed over all of them. Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")"

results="artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

dotnet build Flame.Orleans.sln -c Release -warnaserror --nologo -v quiet || { echo "0 passed, 1 failed"; echo "build failed" >&2; exit 1; }

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
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"

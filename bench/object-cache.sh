#!/usr/bin/env bash
# The object cache's benchmark: put and get MiB/s for 1 KiB, 1 MiB and 64 MiB objects, and the latency of a
# not-modified conditional get, through the Flight server of a session manager hosted in-process (grains, the
# store, the LRU), beside a bare Flight server on the same loopback that keeps the last put in memory (the same
# bytes in the same gRPC streams: the loopback limit). Prints one Markdown table and one latency line.
#
#   bench/object-cache.sh [SECONDS_PER_FIGURE=3] [--sqlite]
#
# --sqlite keeps objects in the embedded default's SQLite store instead of memory. FLAME_BENCH_BUILD=0 skips the build.
set -euo pipefail
readonly REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly PROJECT="$REPO/bench/Flame.ObjectCache.Bench"
if [[ "${FLAME_BENCH_BUILD:-1}" == 1 ]]; then
    dotnet build "$PROJECT" -c Release --nologo -v quiet >/dev/null || { echo "object-cache.sh: build failed" >&2; exit 1; }
fi
exec dotnet "$PROJECT/bin/Release/net10.0/Flame.ObjectCache.Bench.dll" "$@"

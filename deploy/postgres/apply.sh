#!/usr/bin/env bash
# Applies deploy/postgres/[0-9]*.sql in order, each script at most once per database.
#
#   deploy/postgres/apply.sh [postgresql://user:password@host:port/dbname]
#
# Without an argument the connection comes from $FLAME_POSTGRES, else from the standard
# libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, ...). The connection is
# a libpq URI or "key=value" string; Npgsql's "Host=...;Username=..." form is not accepted.
#
# A script NNN_name.sql whose version NNN is recorded in flame_schema_migrations is skipped.
# The scripts are idempotent themselves, so running one again by hand is harmless too.
set -euo pipefail

fail() { echo "apply.sh: $*" >&2; exit 1; }

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
conn="${1:-${FLAME_POSTGRES:-}}"
[[ $# -le 1 ]] || fail "usage: apply.sh [postgresql://user:password@host:port/dbname]"
if [[ "$conn" == *";"* ]]; then
    fail "'$conn' looks like an Npgsql connection string; pass a postgresql:// URI instead"
fi
command -v psql >/dev/null || fail "psql not found (install the PostgreSQL client)"

# -X: ignore ~/.psqlrc; -q/-t/-A: bare output for the checks below.
psql_args=(-X -q -v ON_ERROR_STOP=1)
if [[ -n "$conn" ]]; then psql_args+=(-d "$conn"); fi

errfile="$(mktemp)"
trap 'rm -f "$errfile"' EXIT
last_error() { # the first ERROR/FATAL line psql printed, else its last line
    grep -m1 -E '(ERROR|FATAL|error):' "$errfile" || grep -v '^[[:space:]]*$' "$errfile" | tail -n 1
}

has_table="$(psql "${psql_args[@]}" -tA \
    -c "SELECT to_regclass('flame_schema_migrations') IS NOT NULL" 2>"$errfile")" \
    || fail "cannot connect: $(last_error)"
applied=""
if [[ "$has_table" == "t" ]]; then
    applied="$(psql "${psql_args[@]}" -tA -c "SELECT version FROM flame_schema_migrations" \
        2>"$errfile")" || fail "cannot read flame_schema_migrations: $(last_error)"
fi

shopt -s nullglob
scripts=("$dir"/[0-9]*.sql)
[[ ${#scripts[@]} -gt 0 ]] || fail "no scripts in $dir"

for script in "${scripts[@]}"; do    # the glob sorts, and names are zero-padded
    name="$(basename "$script")"
    version="$((10#${name%%[!0-9]*}))"
    if grep -qx "$version" <<<"$applied"; then
        echo "$name: already applied"
        continue
    fi
    psql "${psql_args[@]}" -f "$script" >/dev/null 2>"$errfile" \
        || fail "$name failed: $(last_error)"
    echo "$name: applied"
done

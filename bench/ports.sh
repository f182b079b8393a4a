# Loopback port helpers shared by the benchmark scripts (sourced; the caller defines fail).

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Sets variable $1 to a loopback port nobody listens on and this script has not handed out before. It assigns rather
# than prints: from $(...) the list of ports handed out would be lost with the subshell, and two draws could collide.
BENCH_TAKEN_PORTS=" "
free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 12000))   # below Linux's ephemeral range (32768+)
        [[ "$BENCH_TAKEN_PORTS" == *" $port "* ]] && continue
        if ! port_open "$port"; then
            BENCH_TAKEN_PORTS+="$port "
            printf -v "$1" '%s' "$port"
            return
        fi
    done
    fail "no free loopback port"
}

#!/usr/bin/env bash
# The standard per-task path as a client that is not ours uses it: bench/end-to-end.sh with its rounds run by
# bench/standard_rpc_client.py (Python grpcio stubs generated from the protos; CreateTask, then WatchTask on a new
# HTTP/2 stream per task, or GetTask polling with FLAME_BENCH_CLIENT_ARGS="--mode poll"). Same arguments and
# environment as bench/end-to-end.sh; needs /usr/bin/python3 with grpcio (Debian: python3-grpcio) and protoc with
# grpc_python_plugin (protobuf-compiler, protobuf-compiler-grpc).
#
#   bench/standard-rpc.sh [TASKS=30000] [ROUNDS=5] [session manager options...]
#   e.g. FLAME_BENCH_CLIENT_ARGS="--in-flight 32 --processes 2" bench/standard-rpc.sh 20000 3
FLAME_BENCH_CLIENT=standard exec "$(dirname "${BASH_SOURCE[0]}")/end-to-end.sh" "$@"

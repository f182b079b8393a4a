"""A flame.v1 benchmark client that is not ours: bare grpcio stubs generated from the protos (samples/python's
flame_protos), using only the standard per-task RPCs the way flamepy does: `CreateTask`, then `WatchTask` (a new
HTTP/2 stream per task) until the task ends, or, with --mode poll, `GetTask` until it ends.

It creates one session of --application, runs --tasks tasks with --in-flight of them open at a time over --processes
worker processes (Python's interpreter lock would otherwise make the client the bottleneck), then --lone tasks one at
a time, and prints flmping's lines (`Throughput: N tasks/s`, `Latency p50: X ms`, ...) so that the bench scripts read
both the same way. The throughput run's latency is each task's CreateTask-to-end round trip under load; the lone run's
is the round trip of a task alone, the figure issue 16 asks about.
"""

import argparse
import asyncio
import multiprocessing
import os
import sys
import time

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples", "python"))
from flame_protos import load  # noqa: E402

pb = None


def ended(state):
    return state not in (pb.types_pb2.Pending, pb.types_pb2.Running)


async def run_task(stub, session, data, mode):
    """One task's round trip, in ms; raises when it does not succeed."""
    started = time.perf_counter()
    task = await stub.CreateTask(pb.frontend_pb2.CreateTaskRequest(
        task=pb.types_pb2.TaskSpec(session_id=session, input=data)))
    task_id = task.metadata.id
    state = task.status.state
    if not ended(state):
        if mode == "watch":
            async for update in stub.WatchTask(pb.frontend_pb2.WatchTaskRequest(task_id=task_id, session_id=session)):
                state = update.status.state
                if ended(state):
                    break
        else:
            while not ended(state):
                state = (await stub.GetTask(pb.frontend_pb2.GetTaskRequest(task_id=task_id, session_id=session))).status.state
    elapsed = (time.perf_counter() - started) * 1000
    if state != pb.types_pb2.Succeed:
        raise RuntimeError("task %s ended %s" % (task_id, pb.types_pb2.TaskState.Name(state)))
    return elapsed


async def worker_async(target, session, tasks, in_flight, mode):
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb.frontend_pb2_grpc.FrontendStub(channel)
        data = b"ping"
        latencies = []
        left = [tasks]

        async def loop():
            while left[0] > 0:
                left[0] -= 1
                latencies.append(await run_task(stub, session, data, mode))

        await asyncio.gather(*(loop() for _ in range(min(in_flight, tasks))))
        return latencies


def worker(args):
    global pb
    pb = load()
    target, session, tasks, in_flight, mode, start = args
    # All workers start together: the run is timed from the first to the last task.
    while time.time() < start:
        time.sleep(0.001)
    began = time.time()
    latencies = asyncio.run(worker_async(target, session, tasks, in_flight, mode))
    return began, time.time(), latencies


def percentiles(title, latencies):
    latencies = sorted(latencies)
    at = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(title)
    print("  Latency p50: %.3f ms" % at(0.50))
    print("  Latency p99: %.3f ms" % at(0.99))
    print("  Latency max: %.3f ms" % latencies[-1])


def main():
    global pb
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True, help="http://HOST:PORT of a session manager's frontend")
    parser.add_argument("--application", default="flmping")
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--in-flight", type=int, default=64, help="tasks open at a time in all")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--lone", type=int, default=1000, help="tasks run one at a time after the throughput run")
    parser.add_argument("--mode", choices=("watch", "poll"), default="watch")
    options = parser.parse_args()
    if options.endpoint.startswith("https://"):
        print("standard_rpc_client.py: TLS is not supported here; give an http:// endpoint", file=sys.stderr)
        return 2
    target = options.endpoint.split("://", 1)[-1]
    # Generated once here, reused by the workers.
    if not os.environ.get("FLAME_PY_STUBS"):
        import tempfile
        os.environ["FLAME_PY_STUBS"] = tempfile.mkdtemp(prefix="flame-py-bench-")
    pb = load()

    processes = max(1, min(options.processes, options.in_flight))
    # Spawned, not forked: a forked grpcio process must not share the parent's channel.
    pool = multiprocessing.get_context("spawn").Pool(processes)
    channel = grpc.insecure_channel(target)
    stub = pb.frontend_pb2_grpc.FrontendStub(channel)
    session = stub.CreateSession(pb.frontend_pb2.CreateSessionRequest(
        session=pb.types_pb2.SessionSpec(application=options.application)), timeout=60).metadata.id
    print("Session <%s>: %d tasks, %d in flight over %d processes, CreateTask + %s" % (
        session, options.tasks, options.in_flight, options.processes,
        "WatchTask" if options.mode == "watch" else "GetTask polling"))
    try:
        share = [options.tasks // processes + (1 if i < options.tasks % processes else 0) for i in range(processes)]
        flights = [options.in_flight // processes + (1 if i < options.in_flight % processes else 0) for i in range(processes)]
        start = time.time() + 2.0
        with pool:
            results = pool.map(worker, [(target, session, share[i], flights[i], options.mode, start) for i in range(processes)])
        # From the first worker's start to the last one's end: a worker that started late lengthens the run.
        elapsed = max(r[1] for r in results) - min(r[0] for r in results)
        latencies = [x for r in results for x in r[2]]
        print("Throughput run (%d in flight)" % options.in_flight)
        print("  Tasks:       %d" % len(latencies))
        print("  Duration:    %.0f ms" % (elapsed * 1000))
        print("  Throughput:  %.0f tasks/s" % (len(latencies) / elapsed))
        percentiles("  under load:", latencies)
        if options.lone:
            lone = asyncio.run(worker_async(target, session, options.lone, 1, options.mode))
            percentiles("Round trip of one task at a time (warm executor)", lone)
    finally:
        stub.CloseSession(pb.frontend_pb2.CloseSessionRequest(session_id=session), timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())

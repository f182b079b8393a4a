"""A flame.v1 client that is not ours, for the issue-21 test: bare grpcio stubs, and what the README asks of such a
client when a silo dies: on UNAVAILABLE, move to the next gateway and send the same CreateTask again with the same
flame-idempotency-key. Nothing else is retried: any other error is recorded and fails the run.

It creates a session through the first gateway (its grain is placed on that gateway's silo), then --tasks creates,
--in-flight at a time, each with a key of its own; once --kill-after of them were answered it SIGKILLs the process group
--kill-group (the first gateway's silo), so that some creates are in flight when it dies. It prints one JSON line:
{"session": ID, "ids": [...], "unavailable": N, "errors": [...]}, and exits 1 if there were errors.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "samples", "python"))
from flame_protos import load  # noqa: E402

ATTEMPTS = 100


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateway", action="append", required=True, help="https://HOST:PORT, the dying one first")
    parser.add_argument("--ca", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--kill-after", type=int, required=True)
    parser.add_argument("--kill-group", type=int, required=True)
    parser.add_argument("--in-flight", type=int, default=8, help="creates sent at a time (one thread each)")
    options = parser.parse_args()

    pb = load()
    with open(options.ca, "rb") as ca:
        credentials = grpc.ssl_channel_credentials(root_certificates=ca.read())
    with open(options.token) as token:
        authorization = ("authorization", "Bearer " + token.read().strip())
    channels = [grpc.secure_channel(g.split("://", 1)[-1], credentials) for g in options.gateway]
    stubs = [pb.frontend_pb2_grpc.FrontendStub(c) for c in channels]

    session = stubs[0].CreateSession(
        pb.frontend_pb2.CreateSessionRequest(session=pb.types_pb2.SessionSpec(application="flmping")),
        metadata=[authorization], timeout=60).metadata.id

    lock = threading.Lock()
    state = {"gateway": 0, "next": 0, "done": 0, "unavailable": 0}
    ids, errors = [], []

    def worker():
        while True:
            with lock:
                state["next"] += 1
                i = state["next"]
            if i > options.tasks:
                return
            request = pb.frontend_pb2.CreateTaskRequest(task=pb.types_pb2.TaskSpec(session_id=session))
            metadata = [authorization, ("flame-idempotency-key", "py-%s-%d" % (session, i))]
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    task = stubs[state["gateway"]].CreateTask(request, metadata=metadata, timeout=60)
                    with lock:
                        ids.append(task.metadata.id)
                    break
                except grpc.RpcError as error:
                    if error.code() != grpc.StatusCode.UNAVAILABLE or attempt == ATTEMPTS:
                        with lock:
                            errors.append("create %d: %s: %s" % (i, error.code().name, error.details()))
                        break
                    with lock:
                        state["unavailable"] += 1
                        state["gateway"] = 1  # the next gateway: the first one is the one that dies
                    time.sleep(0.1 * min(attempt, 10))  # the client's back-off between attempts
            with lock:
                state["done"] += 1
                kill = state["done"] == options.kill_after
            if kill:
                os.killpg(options.kill_group, signal.SIGKILL)

    threads = [threading.Thread(target=worker) for _ in range(options.in_flight)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for channel in channels:
        channel.close()
    print(json.dumps({"session": session, "ids": ids, "unavailable": state["unavailable"], "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

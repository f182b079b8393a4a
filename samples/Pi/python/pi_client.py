#!/usr/bin/env python3
"""Monte Carlo pi on Flame from Python, with grpcio and this repository's protos only: registers the application
(pi_service.py, run by this interpreter) if the cluster does not have it, opens a session, creates every task,
watches each to its end, sums the hits, prints pi and closes the session.

Exit codes: 0 on success; 1 when a task fails, the run times out or the gateway cannot be reached (one line on
standard error says which); 2 for a bad option.
"""

import argparse
import math
import os
import secrets
import string
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import grpc  # noqa: E402

from flame_protos import load  # noqa: E402

pb = load()
SERVICE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pi_service.py")


class RunError(Exception):
    pass


def parse(argv):
    parser = argparse.ArgumentParser(prog="pi_client.py", description="Monte Carlo estimate of pi on Flame.")
    parser.add_argument("--endpoint", default=os.environ.get("FLAME_ENDPOINT", "http://127.0.0.1:8080"),
                        help="the gateway (default $FLAME_ENDPOINT, else http://127.0.0.1:8080)")
    parser.add_argument("--tasks", type=int, default=10, help="number of tasks (default 10)")
    parser.add_argument("--samples", type=int, default=100000, help="random points per task (default 100000)")
    parser.add_argument("--app", default="pi-python", help="the application (default pi-python; registered if absent)")
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many seconds (default 600)")
    options = parser.parse_args(argv)
    if options.tasks < 1 or options.samples < 0 or options.timeout <= 0:
        parser.error("--tasks must be at least 1, --samples at least 0, --timeout positive")
    return options


def target(endpoint):
    for scheme in ("http://", "https://"):
        if endpoint.startswith(scheme):
            return endpoint[len(scheme):].rstrip("/")
    return endpoint


def ensure_application(frontend, name):
    try:
        frontend.GetApplication(pb.frontend_pb2.GetApplicationRequest(name=name), timeout=30)
        return
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.NOT_FOUND:
            raise
    spec = pb.types_pb2.ApplicationSpec(
        description="Monte Carlo estimate of pi (Flame.Orleans sample, Python)",
        command=sys.executable, arguments=[SERVICE])
    if "FLAME_PY_STUBS" in os.environ:
        spec.environments.add(name="FLAME_PY_STUBS", value=os.environ["FLAME_PY_STUBS"])
    # As in Flame, a refused registration is a Result with return code -1, not a gRPC status; one that lost a race
    # with another client's registration of the same name is fine.
    result = frontend.RegisterApplication(pb.frontend_pb2.RegisterApplicationRequest(name=name, application=spec), timeout=30)
    if result.return_code == 0:
        print("registered application '%s': %s %s" % (name, sys.executable, SERVICE))
    elif "already registered" not in result.message:
        raise RunError("could not register application '%s': %s (return code %d)" % (name, result.message, result.return_code))


def run(options):
    with grpc.insecure_channel(target(options.endpoint)) as channel:
        frontend = pb.frontend_pb2_grpc.FrontendStub(channel)
        ensure_application(frontend, options.app)
        # As Flame's clients do: the client names the session, <application>-<6 random letters or digits>.
        session_id = "%s-%s" % (options.app, "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(6)))
        frontend.CreateSession(pb.frontend_pb2.CreateSessionRequest(
            session_id=session_id, session=pb.types_pb2.SessionSpec(application=options.app)), timeout=30)
        try:
            started = time.monotonic()
            deadline = started + options.timeout
            task_input = str(options.samples).encode()
            ids = [frontend.CreateTask(pb.frontend_pb2.CreateTaskRequest(
                task=pb.types_pb2.TaskSpec(session_id=session_id, input=task_input)), timeout=30).metadata.id
                for _ in range(options.tasks)]
            hits = 0
            for task_id in ids:
                task = watch(frontend, session_id, task_id, deadline)
                if task.status.state != pb.types_pb2.Succeed:
                    raise RunError("task %s is %s: %s" % (task_id, pb.types_pb2.TaskState.Name(task.status.state), reason(task)))
                text = task.spec.output.decode("utf-8", "replace")
                if not text.isdigit():
                    raise RunError("task %s returned '%s', which is not a number of hits" % (task_id, text))
                hits += int(text)
            pi = 4.0 * hits / (options.samples * options.tasks) if options.samples else float("nan")
            print("pi is about %.8f (error %.2E) from %d tasks x %d samples in %.2f s"
                  % (pi, abs(pi - math.pi), options.tasks, options.samples, time.monotonic() - started))
            print("session %s" % session_id)
        finally:
            try:
                frontend.CloseSession(pb.frontend_pb2.CloseSessionRequest(session_id=session_id), timeout=10)
            except grpc.RpcError as error:
                print("pi_client.py: could not close session %s: %s" % (session_id, error.details()), file=sys.stderr)


def watch(frontend, session_id, task_id, deadline):
    """The task once terminal (Succeed, Failed or Cancelled), from its WatchTask stream."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise RunError("timed out before task %s was done" % task_id)
    try:
        for task in frontend.WatchTask(pb.frontend_pb2.WatchTaskRequest(session_id=session_id, task_id=task_id), timeout=left):
            if task.status.state in (pb.types_pb2.Succeed, pb.types_pb2.Failed, pb.types_pb2.Cancelled):
                return task
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
            raise RunError("timed out waiting for task %s (does the cluster have an executor manager?)" % task_id)
        raise
    raise RunError("the watch of task %s ended before the task did" % task_id)


def reason(task):
    for event in reversed(task.status.events):
        if event.message:
            return " ".join(event.message.splitlines())
    return "no reason given"


def main(argv):
    options = parse(argv)
    try:
        run(options)
        return 0
    except RunError as error:
        print("pi_client.py: %s" % error, file=sys.stderr)
    except grpc.RpcError as error:
        print("pi_client.py: %s: %s (%s)" % (options.endpoint, error.details(), error.code().name), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

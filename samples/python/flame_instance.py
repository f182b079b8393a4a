"""A Flame service in Python, the way Flame's own SDK (flamepy) runs one: it serves the standard flame.v1.Instance,
and only that, on the Unix socket named by FLAME_INSTANCE_ENDPOINT (a path, `unix://` tolerated). grpcio and the modules
generated from this repository's protos are all it uses.

    class Echo(FlameService):
        def on_task_invoke(self, context):
            return context.input

    run(Echo())

on_task_invoke returns the task's output (bytes, or None for no output); an exception fails the task with its
message, as flamepy does.
"""

import os
import signal
import sys
import threading
from concurrent import futures

import grpc

from flame_protos import load

pb = load()


class FlameService:
    """Override what the service needs; the defaults accept the session and return no output."""

    def on_session_enter(self, context):
        """context: flame.v1.SessionContext (session_id, application, common_data)."""

    def on_task_invoke(self, context):
        """context: flame.v1.TaskContext (task_id, session_id, input). Returns bytes or None."""
        return None

    def on_session_leave(self):
        pass


class _Instance(pb.shim_pb2_grpc.InstanceServicer):
    def __init__(self, service):
        self._service = service

    def OnSessionEnter(self, request, context):
        try:
            self._service.on_session_enter(request)
            return pb.types_pb2.Result(return_code=0)
        except Exception as error:  # the service's failure is the session's answer, not a gRPC error
            return pb.types_pb2.Result(return_code=-1, message=str(error))

    def OnTaskInvoke(self, request, context):
        try:
            output = self._service.on_task_invoke(request)
        except Exception as error:
            return pb.types_pb2.TaskResult(return_code=-1, message=str(error))
        result = pb.types_pb2.TaskResult(return_code=0)
        if output is not None:
            result.output = output
        return result

    def OnSessionLeave(self, request, context):
        try:
            self._service.on_session_leave()
            return pb.types_pb2.Result(return_code=0)
        except Exception as error:
            return pb.types_pb2.Result(return_code=-1, message=str(error))


def run(service):
    """Serves `service` until SIGTERM or SIGINT; exits 2 when FLAME_INSTANCE_ENDPOINT is not set."""
    endpoint = os.environ.get("FLAME_INSTANCE_ENDPOINT", "")
    # A plain path; tolerate the scheme, as Flame's SDKs do.
    if endpoint.startswith("unix://"):
        endpoint = endpoint[len("unix://"):]
    if not endpoint:
        sys.exit("%s: FLAME_INSTANCE_ENDPOINT is not set (the executor manager sets it)" % os.path.basename(sys.argv[0]))
    # One task at a time, as the executor manager sends them; a few threads so that OnSessionLeave is not
    # queued behind anything.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb.shim_pb2_grpc.add_InstanceServicer_to_server(_Instance(service), server)
    server.add_insecure_port("unix://" + endpoint)
    server.start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=1).wait()

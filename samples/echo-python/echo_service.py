#!/usr/bin/env python3
"""An echo service in Python: each task's output is its input. It serves flame.v1.Instance only, as every
service written with Flame's own SDKs does.

With FLAME_ECHO_LOG set, it appends one line per call to that file: `PID enter SESSION`, `PID invoke SESSION TASK`,
`PID leave SESSION`; PID is the process's id, so that a reader can tell which process ran what and count how
often each task ran. Each line is one O_APPEND write, so several services can share the file.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from flame_instance import FlameService, run  # noqa: E402


class EchoService(FlameService):
    def __init__(self):
        self._session = ""
        path = os.environ.get("FLAME_ECHO_LOG")
        self._log = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if path else None

    def _note(self, text):
        if self._log is not None:
            os.write(self._log, ("%d %s\n" % (os.getpid(), text)).encode())

    def on_session_enter(self, context):
        self._session = context.session_id
        self._note("enter " + context.session_id)

    def on_task_invoke(self, context):
        self._note("invoke %s %s" % (context.session_id, context.task_id))
        return context.input if context.HasField("input") else None

    def on_session_leave(self):
        self._note("leave " + self._session)


if __name__ == "__main__":
    run(EchoService())

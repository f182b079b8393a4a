#!/usr/bin/env python3
"""Monte Carlo pi, the Python twin of PiService: a task's input is a number of samples (decimal UTF-8); its output
is how many of those random points of the unit square fell inside the quarter circle (decimal UTF-8). It serves
flame.v1.Instance only, as a service written with Flame's own Python SDK does.
"""

import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

from flame_instance import FlameService, run  # noqa: E402


class PiService(FlameService):
    def on_task_invoke(self, context):
        text = context.input.decode("utf-8", "replace") if context.HasField("input") else ""
        if not text.isdigit():
            raise ValueError("the input must be a number of samples (a non-negative decimal integer), not '%s'" % text)
        draw = random.random
        hits = 0
        for _ in range(int(text)):
            x, y = draw(), draw()
            if x * x + y * y <= 1.0:
                hits += 1
        return str(hits).encode()


if __name__ == "__main__":
    run(PiService())

"""The flame.v1 protos of this repository as Python modules, generated on first use; nothing generated is committed.

    from flame_protos import load
    pb = load()                       # pb.types_pb2, pb.shim_pb2, pb.frontend_pb2, pb.frontend_pb2_grpc, ...

The modules are generated from protos/flame/v1/*.proto into the folder named by FLAME_PY_STUBS (reused when it
holds them already: a test generates them once for all its services), else into a temporary folder removed at
exit. The generator is protoc with grpc_python_plugin (Debian: protobuf-compiler, protobuf-compiler-grpc), else
`python3 -m grpc_tools.protoc` when it is recent enough: our protos use proto3 `optional`, which the protoc
inside Debian 12's python3-grpc-tools (3.5) refuses.
"""

import atexit
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import types

PROTOS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "protos"))
NAMES = ("types", "shim", "frontend", "backend", "ext")


def generate(out, protos=PROTOS):
    """Writes flame/v1/*_pb2.py and *_pb2_grpc.py under `out`; raises RuntimeError naming each generator's error."""
    files = sorted(os.path.join(protos, "flame", "v1", name + ".proto") for name in NAMES)
    args = ["-I", protos, "--python_out=" + out, "--grpc_python_out=" + out] + files
    plugin = shutil.which("grpc_python_plugin")
    attempts = []
    if shutil.which("protoc") and plugin:
        attempts.append(["protoc", "--plugin=protoc-gen-grpc_python=" + plugin] + args)
    attempts.append([sys.executable, "-m", "grpc_tools.protoc"] + args)
    errors = []
    for command in attempts:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode == 0:
            # Packages, so that the generated `from flame.v1 import types_pb2` resolves under `out`.
            for package in ("flame", os.path.join("flame", "v1")):
                open(os.path.join(out, package, "__init__.py"), "a").close()
            return
        errors.append("%s: %s" % (command[0] if command[0] != sys.executable else "grpc_tools.protoc",
                                  (done.stderr.strip().splitlines() or ["exit code %d" % done.returncode])[0]))
    raise RuntimeError("cannot generate the flame.v1 Python modules from %s (%s)" % (protos, "; ".join(errors)))


def load():
    """The generated modules, as attributes of one namespace (types_pb2, frontend_pb2_grpc, ...)."""
    out = os.environ.get("FLAME_PY_STUBS")
    if out:
        if not os.path.exists(os.path.join(out, "flame", "v1", "ext_pb2_grpc.py")):
            os.makedirs(out, exist_ok=True)
            generate(out)
    else:
        out = tempfile.mkdtemp(prefix="flame-py-")
        atexit.register(shutil.rmtree, out, True)
        generate(out)
    if out not in sys.path:
        sys.path.insert(0, out)
    modules = types.SimpleNamespace()
    for name in NAMES:
        for suffix in ("_pb2", "_pb2_grpc"):
            setattr(modules, name + suffix, importlib.import_module("flame.v1." + name + suffix))
    return modules


if __name__ == "__main__":
    # python3 flame_protos.py DIR: generate into DIR (what a test does once, before it sets FLAME_PY_STUBS=DIR).
    if len(sys.argv) != 2:
        sys.exit("usage: flame_protos.py OUTPUT_DIR")
    os.makedirs(sys.argv[1], exist_ok=True)
    try:
        generate(sys.argv[1])
    except RuntimeError as error:
        sys.exit("flame_protos: %s" % error)

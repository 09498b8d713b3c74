#!/usr/bin/python3
# Copyright specinv authors.
#
# Installs the Python client into a fresh virtual environment the way its
# README says (system site packages, offline, no build isolation) and runs its
# pytest suite against real specinv-server processes.
#
#   /usr/bin/python3 client/python/tests/run_tests.py --server BUILD/server/specinv-server \
#       --work-dir BUILD/tests/client/python [--protoc P] [--grpc-python-plugin G] [-- PYTEST ARGS]
#
# Registered with ctest in tests/client/CMakeLists.txt. Needs Debian's
# python3-venv, python3-pip, python3-setuptools, python3-wheel, python3-grpcio,
# python3-protobuf, python3-numpy and python3-pytest. The package is built
# from a copy of client/python under --work-dir (with SPECINV_PROTO_DIR
# pointing at the repository's proto/), so the source tree stays clean.

import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(PACKAGE_DIR))


def run(cmd, **kwargs):
    print("+ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)


def install(work, proto_dir, protoc=None, grpc_python_plugin=None):
    """Installs the package into a fresh venv under `work` as the README says;
    returns (the venv's python, the environment to run it with)."""
    work = os.path.abspath(work)
    venv = os.path.join(work, "venv")
    src = os.path.join(work, "src")
    os.makedirs(work, exist_ok=True)
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(PACKAGE_DIR, src, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__", ".pytest_cache", "tests"))

    env = dict(os.environ)
    env["SPECINV_PROTO_DIR"] = os.path.abspath(proto_dir)
    if protoc:
        env["PROTOC"] = protoc
    if grpc_python_plugin:
        env["GRPC_PYTHON_PLUGIN"] = grpc_python_plugin
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.pop("PYTHONPATH", None)

    run([sys.executable, "-m", "venv", "--clear", "--system-site-packages", venv], env=env)
    python = os.path.join(venv, "bin", "python")
    run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", src],
        env=env, cwd=work)
    return python, env


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, help="specinv-server binary")
    parser.add_argument("--work-dir", required=True, help="where the venv and the build go")
    parser.add_argument("--proto-dir", default=os.path.join(REPO, "proto"))
    parser.add_argument("--protoc", help="protoc (default: on PATH)")
    parser.add_argument("--grpc-python-plugin", help="grpc_python_plugin (default: on PATH)")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()

    work = os.path.abspath(args.work_dir)
    python, env = install(work, args.proto_dir, args.protoc, args.grpc_python_plugin)
    env["SPECINV_SERVER"] = os.path.abspath(args.server)
    # cwd is the work dir, so `import specinv` can only find the installed package.
    cmd = [python, "-m", "pytest", "-p", "no:cacheprovider", "-ra", "-v", HERE] + args.pytest_args
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, env=env, cwd=work).returncode


if __name__ == "__main__":
    sys.exit(main())

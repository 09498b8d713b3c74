# Copyright specinv authors.
#
# Python client of the specinv service. The protobuf and gRPC modules
# (specinv/v1/*_pb2.py, *_pb2_grpc.py, *.pyi) are generated while the package
# is built, from the repository's proto/ directory, with the system protoc and
# grpc_python_plugin (Debian: protobuf-compiler, protobuf-compiler-grpc).
#
# Install (offline, with Debian's python3-grpcio, python3-protobuf,
# python3-numpy, python3-setuptools, python3-wheel):
#   python3 -m venv --system-site-packages .venv
#   .venv/bin/pip install --no-deps --no-build-isolation client/python
#
# Environment overrides:
#   SPECINV_PROTO_DIR    directory holding specinv/v1/*.proto (default: ../../proto
#                        relative to this file, i.e. the repository's proto/)
#   PROTOC               protoc executable (default: protoc on PATH)
#   GRPC_PYTHON_PLUGIN   grpc_python_plugin executable (default: on PATH)

import os
import shutil
import subprocess
import sys

from setuptools import Command, setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))


def proto_dir():
    """The directory with specinv/v1/*.proto."""
    candidates = []
    if os.environ.get("SPECINV_PROTO_DIR"):
        candidates.append(os.environ["SPECINV_PROTO_DIR"])
    candidates += [os.path.join(HERE, "..", "..", "proto"),  # the repository's proto/
                   os.path.join(HERE, "proto")]             # an sdist carries a copy
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, "specinv", "v1", "spectrogram_service.proto")):
            return os.path.normpath(candidate)
    sys.exit("specinv: cannot find specinv/v1/*.proto (looked in %s); set SPECINV_PROTO_DIR"
             % ", ".join(os.path.normpath(c) for c in candidates))


def find_tool(env_name, name, hint):
    path = os.environ.get(env_name) or shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        sys.exit(f"specinv: {name} not found ({hint}); set {env_name}")
    return path


def generate(out_dir):
    """Runs protoc for specinv/v1/*.proto into out_dir/specinv/v1/."""
    src = proto_dir()
    protoc = find_tool("PROTOC", "protoc", "Debian package protobuf-compiler")
    plugin = find_tool("GRPC_PYTHON_PLUGIN", "grpc_python_plugin",
                       "Debian package protobuf-compiler-grpc")
    v1 = os.path.join(src, "specinv", "v1")
    protos = sorted(os.path.join("specinv", "v1", f) for f in os.listdir(v1) if f.endswith(".proto"))
    os.makedirs(os.path.join(out_dir, "specinv", "v1"), exist_ok=True)
    cmd = [protoc, f"-I{src}", f"--plugin=protoc-gen-grpc_python={plugin}",
           f"--python_out={out_dir}", f"--pyi_out={out_dir}", f"--grpc_python_out={out_dir}"] + protos
    print("specinv: " + " ".join(cmd))
    subprocess.run(cmd, check=True)
    with open(os.path.join(out_dir, "specinv", "v1", "__init__.py"), "w") as f:
        f.write('"""Generated protobuf and gRPC modules of the specinv.v1 API."""\n')


class BuildPyWithProtos(build_py):
    """build_py that also generates the specinv.v1 modules into build_lib."""

    def run(self):
        super().run()
        if not self.dry_run:
            generate(self.build_lib)

    def get_outputs(self, include_bytecode=1):
        outputs = super().get_outputs(include_bytecode)
        v1 = os.path.join(self.build_lib, "specinv", "v1")
        if os.path.isdir(v1):
            outputs += [os.path.join(v1, f) for f in sorted(os.listdir(v1)) if f.endswith((".py", ".pyi"))]
        return outputs


class GenerateProtos(Command):
    """`python3 setup.py generate_protos --out DIR`: the generated modules only."""

    description = "generate the specinv.v1 protobuf/gRPC modules"
    user_options = [("out=", "o", "output directory (default: the build_lib of build_py)")]

    def initialize_options(self):
        self.out = None

    def finalize_options(self):
        if self.out is None:
            self.set_undefined_options("build_py", ("build_lib", "out"))

    def run(self):
        generate(self.out)


class SdistWithProtos(sdist):
    """An sdist carries the .proto files, so it builds away from the repository."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        src = os.path.join(proto_dir(), "specinv", "v1")
        dst = os.path.join(base_dir, "proto", "specinv", "v1")
        os.makedirs(dst, exist_ok=True)
        for f in sorted(os.listdir(src)):
            if f.endswith(".proto"):
                shutil.copy(os.path.join(src, f), dst)


setup(
    name="specinv",
    version="0.1.0",
    description="Python client of the specinv spectrogram analysis / inversion service",
    long_description=("NumPy in, NumPy out client of the specinv gRPC service: analyze audio "
                      "into (log-)mel and STFT spectrograms, invert mel spectrograms and "
                      "magnitudes to audio, stream a vocoder, reorder, transform and render."),
    python_requires=">=3.9",
    packages=["specinv"],
    package_data={"specinv": ["py.typed"]},
    install_requires=["grpcio", "protobuf>=3.20", "numpy"],
    cmdclass={"build_py": BuildPyWithProtos, "generate_protos": GenerateProtos,
              "sdist": SdistWithProtos},
    zip_safe=False,
)

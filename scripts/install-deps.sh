#!/usr/bin/env bash
# Installs the Debian bookworm packages specinv needs, skipping those already
# present (idempotent). Run as root (or with sudo available).
#   scripts/install-deps.sh          build + test + run dependencies
#   scripts/install-deps.sh fuzz     also clang/libFuzzer
#   scripts/install-deps.sh deploy   only the container tools of `make deploy-test`
#                                    (podman, podman-compose, runc; debootstrap for
#                                    a local base image when no registry is reachable)
#   scripts/install-deps.sh quality  also the corpus sources of `make quality`
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ccache
  # gRPC service
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc libabsl-dev
  # DSP core
  libfftw3-dev libeigen3-dev liblbfgs-dev libsndfile1-dev libsoxr-dev libpng-dev
  # k-d tree neighbour search (header-only)
  libnanoflann-dev
  # figure text: layout, rasterising, the font
  libcairo2-dev libpango1.0-dev fonts-dejavu-core
  # service plumbing: logging, CLI, metrics endpoint and registry
  libspdlog-dev libfmt-dev libcli11-dev libcpp-httplib-dev prometheus-cpp-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  python3 python3-grpcio python3-grpc-tools python3-numpy python3-yaml
  # Python client (client/python): build, install into a venv, test
  python3-protobuf python3-venv python3-pip python3-setuptools python3-wheel python3-pytest
  # fault test through an L7 gRPC balancer (loopback only)
  nginx-light
)
if [[ "${1:-}" == "fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev)
elif [[ "${1:-}" == "deploy" ]]; then
  # The image compiles inside the container: the host needs only the engine.
  packages=(podman podman-compose runc debootstrap)
elif [[ "${1:-}" == "quality" ]]; then
  # `make quality` corpus: synthetic speech (espeak-ng, festival voices),
  # rendered instruments (fluidsynth + General MIDI soundfont), the recorded
  # speech of alsa-utils, sox to cut/resample; scipy for the librosa baseline.
  packages+=(espeak-ng festival festvox-kallpc16k festvox-us-slt-hts fluidsynth fluid-soundfont-gm alsa-utils sox
             python3-scipy)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

# shellcheck shell=bash
# Container-engine helpers shared by deploy/test-container.sh and
# deploy/test-deploy.sh. Source it (bash); it defines functions only and
# changes nothing until they are called.
#
#   engine_log MSG...             "$ENGINE_LOG_PREFIX: MSG" on stdout
#   engine_select [podman]        sets ENGINE (docker if a daemon answers, else podman;
#                                 "podman" forces podman) and the argument arrays
#                                 ENGINE_BUILD_ARGS / ENGINE_RUN_ARGS; prepares podman
#                                 when it is missing (see below)
#   engine_runtime_base           sets ENGINE_RUNTIME_IMAGE (empty = the Dockerfile's own
#                                 debian:bookworm-slim) and adds the build argument
#   engine_build TAG DOCKERFILE CONTEXT LOG
#                                 builds one image (output in LOG), prints the seconds it took
#
# Preparing podman: `scripts/install-deps.sh deploy` installs podman,
# podman-compose and runc from Debian. When debian:bookworm-slim is not
# local and cannot be pulled (no registry reachable),
# ../shared/tools/container-env.sh (beside the repository) makes a local
# debootstrap image under that name and sets podman up for a sandbox
# (containers.conf without default ulimits). podman runs with runc and host
# networking for builds (the build compiles inside the container).
#
# Environment: SPECINV_ENGINE (docker|podman), SPECINV_BUILD_JOBS (2),
#   SPECINV_RUNTIME_IMAGE (runtime base; see engine_runtime_base).

ENGINE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ENGINE_LOG_PREFIX=${ENGINE_LOG_PREFIX:-engine}
ENGINE_SHARED_ENV="$ENGINE_ROOT/../shared/tools/container-env.sh"

engine_log() { echo "$ENGINE_LOG_PREFIX: $*"; }

# podman with a local (or pullable) debian:bookworm-slim base.
engine_prepare_podman() {
  if ! command -v podman >/dev/null 2>&1 || ! command -v podman-compose >/dev/null 2>&1 ||
     [[ ! -x /usr/sbin/runc ]]; then
    engine_log "installing the container tools (scripts/install-deps.sh deploy)"
    "$ENGINE_ROOT/scripts/install-deps.sh" deploy >/dev/null || return 1
  fi
  if ! podman image exists docker.io/library/debian:bookworm-slim; then
    if timeout 60 podman pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>&1 &&
       timeout 60 podman pull -q docker.io/library/debian:bookworm >/dev/null 2>&1; then
      engine_log "pulled debian:bookworm and debian:bookworm-slim"
    elif [[ -f "$ENGINE_SHARED_ENV" ]]; then
      engine_log "no registry: preparing a local Debian base with ../shared/tools/container-env.sh"
      bash "$ENGINE_SHARED_ENV" >/dev/null || return 1
    else
      engine_log "debian:bookworm-slim is neither local nor pullable"
      return 1
    fi
  fi
}

engine_select() {
  local want=${1:-${SPECINV_ENGINE:-}}
  ENGINE=$want
  if [[ -z "$ENGINE" ]]; then
    if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
      ENGINE=docker
    else
      ENGINE=podman
    fi
  fi
  if [[ "$ENGINE" == podman ]]; then
    engine_prepare_podman || return 1
  fi
  ENGINE_BUILD_ARGS=(--build-arg "JOBS=${SPECINV_BUILD_JOBS:-2}")
  ENGINE_RUN_ARGS=()
  ENGINE_GLOBAL_ARGS=()
  if [[ "$ENGINE" == podman ]]; then
    # HEALTHCHECK is part of the Docker image format only (OCI drops it).
    ENGINE_BUILD_ARGS+=(--format docker --network=host)
    if [[ -x /usr/sbin/runc ]]; then
      ENGINE_BUILD_ARGS+=(--runtime /usr/sbin/runc)
      ENGINE_RUN_ARGS+=(--runtime /usr/sbin/runc)
      ENGINE_GLOBAL_ARGS+=(--runtime /usr/sbin/runc)  # for podman-compose and kube play
    fi
  fi
  engine_log "engine: $ENGINE ($($ENGINE --version 2>/dev/null | head -n 1))"
}

# Runtime base: the Dockerfile's runtime stage is `debian:bookworm-slim`. When
# that name resolves to a local debootstrap import rather than the official
# slim image (it still holds apt's package cache, lists and all locales:
# ~200 MB instead of ~75 MB), derive an equivalent slim base from it the way
# the official image is made (no apt cache or lists, no docs, man pages or
# translations, dpkg excludes for later installs) and build with
# --build-arg RUNTIME_IMAGE=localhost/specinv-base:bookworm-slim.
engine_runtime_base() {
  ENGINE_RUNTIME_IMAGE=${SPECINV_RUNTIME_IMAGE:-}
  if [[ -z "$ENGINE_RUNTIME_IMAGE" ]] &&
     $ENGINE run --rm "${ENGINE_RUN_ARGS[@]}" --network=host debian:bookworm-slim \
       sh -c 'ls /var/cache/apt/archives/*.deb >/dev/null 2>&1 || [ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v "^lock$\|^partial$")" ]'; then
    ENGINE_RUNTIME_IMAGE=localhost/specinv-base:bookworm-slim
    if ! $ENGINE image inspect "$ENGINE_RUNTIME_IMAGE" >/dev/null 2>&1; then
      engine_log "local debian:bookworm-slim is a full debootstrap import; deriving the slim base $ENGINE_RUNTIME_IMAGE"
      local base="specinv-base-$$"
      $ENGINE run "${ENGINE_RUN_ARGS[@]}" --network=host --name "$base" debian:bookworm-slim sh -ec '
        apt-get clean
        rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old /var/log/* /tmp/*
        find /usr/share/doc -mindepth 1 ! -name copyright ! -type d -delete
        find /usr/share/doc -mindepth 1 -type d -empty -delete
        rm -rf /usr/share/man/* /usr/share/info/* /usr/share/locale/* /usr/share/lintian/*
        printf "%s\n" "path-exclude /usr/share/doc/*" "path-include /usr/share/doc/*/copyright" \
          "path-exclude /usr/share/man/*" "path-exclude /usr/share/info/*" \
          "path-exclude /usr/share/locale/*" "path-exclude /usr/share/lintian/*" \
          > /etc/dpkg/dpkg.cfg.d/docker
        printf "%s\n" "DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb || true\"; };" \
          "Dir::Cache::pkgcache \"\"; Dir::Cache::srcpkgcache \"\";" > /etc/apt/apt.conf.d/docker-clean' \
        || { $ENGINE rm -f "$base" >/dev/null 2>&1; return 1; }
      $ENGINE export "$base" | $ENGINE import --change 'CMD ["bash"]' - "$ENGINE_RUNTIME_IMAGE" >/dev/null
      $ENGINE rm -f "$base" >/dev/null
    fi
  fi
  if [[ -n "$ENGINE_RUNTIME_IMAGE" ]]; then
    ENGINE_BUILD_ARGS+=(--build-arg "RUNTIME_IMAGE=$ENGINE_RUNTIME_IMAGE")
    engine_log "runtime base: $ENGINE_RUNTIME_IMAGE ($(( $($ENGINE image inspect "$ENGINE_RUNTIME_IMAGE" --format '{{.Size}}') / 1000000 )) MB)"
  fi
}

# engine_build TAG DOCKERFILE CONTEXT LOG: nice(1)d, the layer cache is kept.
engine_build() {
  local tag=$1 dockerfile=$2 context=$3 log=$4 start
  start=$(date +%s)
  if ! nice -n 10 "$ENGINE" build "${ENGINE_BUILD_ARGS[@]}" -f "$dockerfile" -t "$tag" "$context" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    return 1
  fi
  echo $(( $(date +%s) - start ))
}

# engine_image_mb TAG: the image's size in MB (10^6 bytes), as the engine reports it.
engine_image_mb() {
  echo $(( $($ENGINE image inspect "$1" --format '{{.Size}}') / 1000000 ))
}

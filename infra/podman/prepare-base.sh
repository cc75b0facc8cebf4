#!/usr/bin/env bash
# Makes `podman build -f infra/Dockerfile .` work on a machine with no Docker engine that cannot
# pull base images (our CI machine): installs podman, runc and debootstrap (Debian packages), then
# creates the two base images locally, once:
#   localhost/debian:bookworm-slim           a Debian bookworm minbase root filesystem, without
#                                            package lists, caches, docs, man pages or locales;
#   localhost/node:20-bookworm-slim          that, plus this machine's own Node 20, npm, Node
#                                            headers (node-gyp compiles better-sqlite3 offline with
#                                            them), CA bundle, and the `node` user (uid 1000),
# which the build takes as `--build-arg NODE_IMAGE=localhost/node:20-bookworm-slim` (nothing is
# pulled from anywhere). An image that exists already
# (pulled, or made by an earlier run) is kept: a second run returns at once.
# Then use infra/podman/containers.conf: export CONTAINERS_CONF="$PWD/infra/podman/containers.conf"
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '[prepare-base] %s\n' "$*"; }

need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || need+=(runc)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
export CONTAINERS_CONF="$PWD/infra/podman/containers.conf"

work=$(mktemp -d "${TMPDIR:-/tmp}/notebox-base.XXXXXX")
trap 'rm -rf "$work"' EXIT

if ! podman image exists localhost/debian:bookworm-slim; then
  # The mirror apt already uses on this machine (deb822 or one-line sources), else debootstrap's own.
  mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  log "debootstrap bookworm (minbase)"
  rootfs="$work/rootfs"
  debootstrap=$(command -v debootstrap || echo /usr/sbin/debootstrap)
  if ! "$debootstrap" --variant=minbase bookworm "$rootfs" ${mirror:+"$mirror"} >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    exit 1
  fi
  # As the official slim image: no package lists or downloaded packages, no docs, man pages or
  # translations, and dpkg told to leave them out of later installs too.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/tmp/*
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  printf 'APT::Install-Recommends "false";\n' >"$rootfs/etc/apt/apt.conf.d/90slim"
  tar -C "$rootfs" -c . | podman import --quiet - localhost/debian:bookworm-slim >/dev/null
  rm -rf "$rootfs"
fi

if ! podman image exists localhost/node:20-bookworm-slim; then
  node_bin=$(readlink -f "$(command -v node)")
  version=$("$node_bin" -p 'process.versions.node')
  if [ "${version%%.*}" != 20 ]; then
    echo "prepare-base: this machine's Node is $version; the image is named node:20, so Node 20 is needed" >&2
    exit 1
  fi
  headers="$(dirname "$(dirname "$node_bin")")/include/node"
  [ -f "$headers/node_api.h" ] || { echo "prepare-base: no Node headers at $headers (node-gyp needs them offline)" >&2; exit 1; }
  log "node:20-bookworm-slim from this machine's Node $version"
  ctx="$work/node"
  mkdir -p "$ctx"
  cp "$node_bin" "$ctx/node"
  cp -a "$(npm root -g)/npm" "$ctx/npm"
  cp -a "$headers" "$ctx/include-node"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  cat >"$ctx/Containerfile" <<'EOF'
FROM localhost/debian:bookworm-slim
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY include-node /usr/local/include/node
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt npm_config_nodedir=/usr/local
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
CMD ["node"]
EOF
  if ! podman build --quiet --isolation chroot --network host -t localhost/node:20-bookworm-slim "$ctx" >"$work/node.log" 2>&1; then
    tail -n 30 "$work/node.log" >&2
    exit 1
  fi
fi

log "ready: localhost/debian:bookworm-slim, localhost/node:20-bookworm-slim"

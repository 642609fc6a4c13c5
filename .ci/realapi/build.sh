#!/usr/bin/env bash
# Build the binaries of the real control-plane harness into a cache directory:
#
#   $KROSIM_CACHE/bin/etcd                     etcd (module tools/etcd, version pinned in its go.mod)
#   $KROSIM_CACHE/bin/krosim-apply             tiny kubectl stand-in (tools/apply)
#   $KROSIM_CACHE/bin/krosim-apiserver         apiextensions-apiserver + root discovery (tools/apiserver);
#                                              this is what up.sh runs, see tools/apiserver/main.go
#   $KROSIM_CACHE/bin/apiextensions-apiserver  unmodified k8s.io/apiextensions-apiserver (for
#                                              comparison; kro cannot run against it: no /apis)
#   $KROSIM_CACHE/bin/kro-controller           kro's controller (github.com/kubernetes-sigs/kro/cmd/controller)
#   $KROSIM_CACHE/kro-crds/$KRO_VERSION/*.yaml kro's CRDs (helm/crds of the kro module)
#
# KROSIM_CACHE defaults to $HOME/.cache/krosim. Each piece writes a stamp file
# recording what it was built from (version + Go version, or a hash of the tools
# sources); a piece whose stamp matches and whose outputs exist is skipped, so
# re-running is cheap. Set KROSIM_REBUILD=1 to ignore the stamps.
#
# Cold builds are slow on 2 cores (apiextensions-apiserver alone takes minutes).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # CACHE, BIN, KRO_VERSION, KRO_CRDS

APIEXT_VERSION=v0.37.2
KRO_MODULE=github.com/kubernetes-sigs/kro

TOOLS=$REALAPI_HOME/tools
STAMPS=$CACHE/stamps
mkdir -p "$BIN" "$STAMPS"

# `go install pkg@version` and `go mod download` must not see any surrounding
# module or workspace (they could otherwise touch the project's go.mod/go.sum).
export GOWORK=off
GO_VERSION=$(go env GOVERSION)

log() { printf '[build] %s\n' "$*" >&2; }

# up_to_date NAME KEY OUTPUT... : true when stamp NAME holds KEY and all outputs exist.
up_to_date() {
  local name=$1 key=$2 f
  shift 2
  [[ ${KROSIM_REBUILD:-0} == 1 ]] && return 1
  [[ -f $STAMPS/$name && $(cat "$STAMPS/$name") == "$key" ]] || return 1
  for f in "$@"; do [[ -e $f ]] || return 1; done
}

# step NAME KEY OUTPUTS FUNC: run FUNC unless up to date, then write the stamp.
step() {
  local name=$1 key=$2 outputs=$3 fn=$4 start
  # shellcheck disable=SC2086 # outputs is a space-separated list of paths without spaces
  if up_to_date "$name" "$key" $outputs; then
    log "$name: up to date ($key)"
    return
  fi
  log "$name: building ($key)"
  start=$SECONDS
  rm -f "$STAMPS/$name"
  "$fn"
  printf '%s' "$key" >"$STAMPS/$name"
  log "$name: done in $((SECONDS - start))s"
}

# etcd is its own module (tools/etcd): etcd 3.6 and the Kubernetes 0.37
# libraries require different go.etcd.io/etcd/client versions, and one module
# would force one of them onto the other.
build_etcd() {
  (cd "$TOOLS/etcd" && go build -o "$BIN/etcd" .)
}

build_tools() {
  (cd "$TOOLS" && go build -o "$BIN/krosim-apply" ./apply && go build -o "$BIN/krosim-apiserver" ./apiserver)
}

build_apiext() {
  (cd / && GOBIN=$BIN go install "k8s.io/apiextensions-apiserver@$APIEXT_VERSION")
}

build_kro() {
  # go install names the binary after its package directory ("controller");
  # install into a scratch directory and rename it.
  local tmp
  tmp=$(mktemp -d)
  (cd / && GOBIN=$tmp go install "$KRO_MODULE/cmd/controller@$KRO_VERSION")
  mv "$tmp/controller" "$BIN/kro-controller"
  rmdir "$tmp"
}

extract_kro_crds() {
  local dir dest=$KRO_CRDS
  # `go mod download -json` prints the module's extracted directory as "Dir".
  dir=$(cd / && go mod download -json "$KRO_MODULE@$KRO_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  if [[ -z $dir || ! -d $dir/helm/crds ]]; then
    log "cannot find helm/crds in the $KRO_MODULE@$KRO_VERSION module (Dir=$dir)"
    return 1
  fi
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$dir"/helm/crds/*.yaml "$dest/"
  chmod u+w "$dest"/*.yaml # files in the module cache are read-only
}

# source_hash DIR [FIND-ARGS]: hash of the Go sources and module files under DIR,
# so that the tools are rebuilt whenever they are edited.
source_hash() {
  local dir=$1
  shift
  (cd "$dir" && find . \( -name '*.go' -o -name go.mod -o -name go.sum \) "$@" -print0 |
    LC_ALL=C sort -z | xargs -0 cat | sha256sum | cut -c1-16)
}

total=$SECONDS
step etcd "etcd-$(source_hash "$TOOLS/etcd") $GO_VERSION" "$BIN/etcd" build_etcd
step tools "tools-$(source_hash "$TOOLS" -not -path './etcd/*') $GO_VERSION" \
  "$BIN/krosim-apply $BIN/krosim-apiserver" build_tools
step apiextensions-apiserver "$APIEXT_VERSION $GO_VERSION" "$BIN/apiextensions-apiserver" build_apiext
step kro-controller "$KRO_VERSION $GO_VERSION" "$BIN/kro-controller" build_kro
step kro-crds "$KRO_VERSION" "$KRO_CRDS" extract_kro_crds
log "all done in $((SECONDS - total))s; binaries in $BIN"

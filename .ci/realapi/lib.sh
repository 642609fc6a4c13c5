# shellcheck shell=bash disable=SC2034 # sourced: the variables are used by up.sh/down.sh
# Shared settings for build.sh, up.sh and down.sh (sourced, not executed).
# Ports and directories can be overridden from the environment.

REALAPI_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$REALAPI_HOME/../.." && pwd)

CACHE=${KROSIM_CACHE:-$HOME/.cache/krosim}
BIN=$CACHE/bin
KRO_VERSION=v0.9.4 # the kro release build.sh installs and up.sh runs
KRO_CRDS=$CACHE/kro-crds/$KRO_VERSION

STATE=${KROSIM_REALAPI_DIR:-/tmp/krosim-realapi}
PIDS=$STATE/pids
LOGS=$STATE/logs
PKI=$STATE/pki
KUBECONFIG_FILE=$STATE/kubeconfig
# A marker so that up.sh only ever wipes a directory it created itself.
MARKER=$STATE/.krosim-realapi

ETCD_PORT=${KROSIM_ETCD_PORT:-2379}
ETCD_PEER_PORT=${KROSIM_ETCD_PEER_PORT:-2380}
APISERVER_PORT=${KROSIM_APISERVER_PORT:-6443}
KRO_METRICS_PORT=${KROSIM_KRO_METRICS_PORT:-8078}
KRO_PROBE_PORT=${KROSIM_KRO_PROBE_PORT:-8079}
KRO_PPROF_PORT=${KROSIM_KRO_PPROF_PORT:-6060} # bound only by kro builds with -tags pprof

# Components in start order; down.sh stops them in reverse.
COMPONENTS=(etcd apiserver kro)

# pid_alive COMPONENT: prints the PID and succeeds if the component recorded in
# the state dir is still running. up.sh records the binary next to the PID
# (pids/NAME.exe), so a stale PID file never makes us signal an unrelated
# process that happens to reuse the PID.
pid_alive() {
  local file=$PIDS/$1.pid pid exe
  [[ -f $file && -f $PIDS/$1.exe ]] || return 1
  pid=$(cat "$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  # A rebuilt binary shows up as "PATH (deleted)" for processes started before.
  [[ ${exe% (deleted)} == "$(cat "$PIDS/$1.exe")" ]] || return 1
  echo "$pid"
}

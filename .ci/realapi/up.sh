#!/usr/bin/env bash
# Start the real control plane on loopback:
#   etcd -> k8s.io/apiextensions-apiserver -> kro's CRDs + stand-in CRDs -> kro controller.
#
# Binaries come from build.sh (run it first). Everything lives in the state dir
# ${KROSIM_REALAPI_DIR:-/tmp/krosim-realapi}, which is wiped at every start:
#   kubeconfig   admin kubeconfig (client cert CN=admin, O=system:masters)
#   env          shell snippet with KUBECONFIG, ports and URLs (source it)
#   pki/         CA, server and client certificates
#   etcd/        etcd data dir
#   logs/        one log file per component
#   pids/        one PID file per component (used by down.sh)
#
# Knobs (environment):
#   KROSIM_ETCD_PORT (2379), KROSIM_ETCD_PEER_PORT (2380), KROSIM_APISERVER_PORT (6443),
#   KROSIM_KRO_METRICS_PORT (8078), KROSIM_KRO_PROBE_PORT (8079), KROSIM_KRO_PPROF_PORT (6060)
#   KROSIM_KRO_FLAGS     extra flags for kro's controller (word-split)
#   KROSIM_APISERVER_FLAGS  extra flags for the API server (word-split), e.g. -v=3
#   KROSIM_AUDIT=1       the API server writes an audit log of every request to a kro or
#                        stand-in kind (Metadata level: verb, resource, name, when received
#                        and completed) to logs/audit.log, one JSON event a line
#   KROSIM_SKIP_KRO=1    start only etcd + API server + CRDs
#   KROSIM_APISERVER=upstream  run the unmodified apiextensions-apiserver; it has
#                        no /apis, so use it with KROSIM_SKIP_KRO=1 (plain CRUD only)
#   KROSIM_KEEP_ON_FAILURE=1  leave started processes running when startup fails
#   KROSIM_START_TIMEOUT (60) seconds to wait for each component
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

START_TIMEOUT=${KROSIM_START_TIMEOUT:-60}

log() { printf '[up] %s\n' "$*" >&2; }
die() {
  printf '[up] ERROR: %s\n' "$*" >&2
  exit 1
}

# On any failure: show the tail of every log, then stop what was started.
on_exit() {
  local rc=$?
  ((rc == 0)) && return
  printf '\n[up] ===== startup FAILED (exit %d) =====\n' "$rc" >&2
  local f
  for f in "$LOGS"/*.log; do
    [[ -f $f ]] || continue
    printf '\n[up] ----- last 30 lines of %s -----\n' "$f" >&2
    tail -n 30 "$f" >&2
  done
  if [[ ${KROSIM_KEEP_ON_FAILURE:-0} == 1 ]]; then
    log "KROSIM_KEEP_ON_FAILURE=1: leaving processes running; stop them with down.sh"
  else
    log "stopping what was started"
    "$REALAPI_HOME/down.sh" >&2 || true
  fi
  log "state and logs kept in $STATE"
}

# ---------------------------------------------------------------------------
# Preconditions

# KROSIM_APISERVER=upstream runs the unmodified apiextensions-apiserver instead
# of krosim-apiserver; it has no /apis, so kro cannot start against it.
case ${KROSIM_APISERVER:-krosim} in
krosim) APISERVER_BIN=$BIN/krosim-apiserver ;;
upstream)
  APISERVER_BIN=$BIN/apiextensions-apiserver
  [[ ${KROSIM_SKIP_KRO:-0} == 1 ]] || die "KROSIM_APISERVER=upstream needs KROSIM_SKIP_KRO=1 (kro needs /apis)"
  ;;
*) die "KROSIM_APISERVER must be krosim or upstream" ;;
esac

for b in etcd "${APISERVER_BIN##*/}" kro-controller krosim-apply; do
  [[ -x $BIN/$b ]] || die "$BIN/$b missing: run $REALAPI_HOME/build.sh first"
done
compgen -G "$KRO_CRDS/*.yaml" >/dev/null || die "no kro CRDs in $KRO_CRDS: run build.sh first"
command -v openssl >/dev/null || die "openssl is required"
command -v curl >/dev/null || die "curl is required"

for c in "${COMPONENTS[@]}"; do
  if pid=$(pid_alive "$c"); then
    die "$c is already running (PID $pid) from $STATE: run down.sh first"
  fi
done

# Fail early and clearly if a port is taken (e.g. by another harness instance).
for port in "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KRO_METRICS_PORT" "$KRO_PROBE_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "127.0.0.1:$port is already in use"
  fi
done

# Only wipe the state dir if it is ours (has the marker) or is empty.
if [[ -d $STATE && ! -f $MARKER && -n $(ls -A "$STATE") ]]; then
  die "$STATE exists, is not empty and was not created by up.sh; refusing to wipe it"
fi
rm -rf "$STATE"
mkdir -p "$STATE" "$PIDS" "$LOGS" "$PKI"
touch "$MARKER"
trap on_exit EXIT

# ---------------------------------------------------------------------------
# Certificates: a CA, a serving cert for 127.0.0.1/localhost, an admin client cert.
# system:masters matters: the API server authorizes that group without asking
# itself (any other identity triggers SubjectAccessReviews, which it cannot serve).

log "generating certificates in $PKI"
(
  cd "$PKI"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -keyout ca.key -out ca.crt -subj "/CN=krosim-realapi-ca" 2>/dev/null

  openssl req -newkey rsa:2048 -nodes -sha256 \
    -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
  printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
    'extendedKeyUsage=serverAuth' 'keyUsage=critical,digitalSignature,keyEncipherment' >server.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -sha256 -days 3650 -extfile server.ext -out server.crt 2>/dev/null

  openssl req -newkey rsa:2048 -nodes -sha256 \
    -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=admin" 2>/dev/null
  printf '%s\n' 'extendedKeyUsage=clientAuth' 'keyUsage=critical,digitalSignature,keyEncipherment' >admin.ext
  openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -sha256 -days 3650 -extfile admin.ext -out admin.crt 2>/dev/null
  rm -f ./*.csr ./*.ext
  chmod 600 ./*.key
)

APISERVER_URL=https://127.0.0.1:$APISERVER_PORT
b64() { base64 -w0 <"$1"; }
cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: krosim-realapi
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(b64 "$PKI/admin.crt")
    client-key-data: $(b64 "$PKI/admin.key")
contexts:
- name: krosim-realapi
  context:
    cluster: krosim-realapi
    user: admin
current-context: krosim-realapi
EOF
chmod 600 "$KUBECONFIG_FILE"

cat >"$STATE/env" <<EOF
# Source this file to talk to the krosim real-API harness.
export KUBECONFIG=$KUBECONFIG_FILE
export KROSIM_REALAPI_DIR=$STATE
export KROSIM_APISERVER_URL=$APISERVER_URL
export KROSIM_ETCD_URL=http://127.0.0.1:$ETCD_PORT
export KROSIM_KRO_METRICS_URL=http://127.0.0.1:$KRO_METRICS_PORT/metrics
export KROSIM_KRO_PROBE_URL=http://127.0.0.1:$KRO_PROBE_PORT
EOF

# ---------------------------------------------------------------------------
# Process helpers

# start NAME CMD...: run CMD detached (own session, so it outlives this script
# and the terminal), log to logs/NAME.log, record its PID in pids/NAME.pid.
# The inner shell writes its own PID and then execs CMD, so the PID is CMD's.
start() {
  local name=$1
  shift
  log "starting $name: $*"
  readlink -f "$1" >"$PIDS/$name.exe"
  # shellcheck disable=SC2016 # $$ and $@ are for the inner shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDS/$name.pid" "$@" \
    </dev/null >"$LOGS/$name.log" 2>&1 &
  # Wait for the PID file (written by the child right away).
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $PIDS/$name.pid ]] && return 0
    sleep 0.1
  done
  die "$name did not start"
}

# wait_until NAME WHAT CMD...: poll CMD until it succeeds; fail if the process
# NAME dies or START_TIMEOUT passes.
wait_until() {
  local name=$1 what=$2 start=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    pid_alive "$name" >/dev/null || die "$name exited while waiting for $what (see $LOGS/$name.log)"
    ((SECONDS - start < START_TIMEOUT)) || die "timed out after ${START_TIMEOUT}s waiting for $what"
    sleep 0.2
  done
  log "$what: ok after $((SECONDS - start))s"
}

# ---------------------------------------------------------------------------
# etcd: single member, loopback only, data in the state dir.

ETCD_URL=http://127.0.0.1:$ETCD_PORT
ETCD_PEER_URL=http://127.0.0.1:$ETCD_PEER_PORT
start etcd "$BIN/etcd" \
  --name=krosim \
  --data-dir="$STATE/etcd" \
  --listen-client-urls="$ETCD_URL" --advertise-client-urls="$ETCD_URL" \
  --listen-peer-urls="$ETCD_PEER_URL" --initial-advertise-peer-urls="$ETCD_PEER_URL" \
  --initial-cluster="krosim=$ETCD_PEER_URL" --initial-cluster-state=new
etcd_healthy() { curl -fsS "$ETCD_URL/health" | grep -q '"health":"true"'; }
wait_until etcd "etcd /health" etcd_healthy

# ---------------------------------------------------------------------------
# API server: krosim-apiserver is apiextensions-apiserver with root discovery
# added (tools/apiserver/main.go); kro's controller-runtime manager needs /apis.
# Flags from /work/shared/REALAPI.md: the delegated authn/authz
# kubeconfigs point back at the server itself; priority-and-fairness and the
# admission plugins below are off because they need core APIs this server
# does not serve.

AUDIT_FLAGS=()
if [[ ${KROSIM_AUDIT:-0} == 1 ]]; then
  cat >"$STATE/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted"]
rules:
  - level: Metadata
    resources:
      - group: "standin.krosim.dev"
      - group: "kro.run"
  - level: None
POLICY
  AUDIT_FLAGS=(--audit-policy-file="$STATE/audit-policy.yaml" --audit-log-path="$LOGS/audit.log"
    --audit-log-format=json --audit-log-maxsize=0)
fi

# shellcheck disable=SC2086 # KROSIM_APISERVER_FLAGS is meant to be word-split
start apiserver "$APISERVER_BIN" \
  --etcd-servers="$ETCD_URL" \
  --bind-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
  --tls-cert-file="$PKI/server.crt" --tls-private-key-file="$PKI/server.key" \
  --cert-dir="$PKI/apiserver" \
  --client-ca-file="$PKI/ca.crt" \
  --kubeconfig="$KUBECONFIG_FILE" \
  --authentication-kubeconfig="$KUBECONFIG_FILE" --authentication-skip-lookup \
  --authorization-kubeconfig="$KUBECONFIG_FILE" \
  --enable-priority-and-fairness=false \
  --max-requests-inflight=1000 --max-mutating-requests-inflight=500 \
  --disable-admission-plugins=NamespaceLifecycle,MutatingAdmissionPolicy,MutatingAdmissionWebhook,ValidatingAdmissionPolicy,ValidatingAdmissionWebhook \
  "${AUDIT_FLAGS[@]}" ${KROSIM_APISERVER_FLAGS:-}
# The generic server always starts a v1 Service informer (for CRD conversion
# webhooks); this server does not serve Services, so that informer never syncs
# and the "informer-sync" readiness check stays red forever. Every other check
# must pass.
apiserver_ready() {
  curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "$APISERVER_URL/readyz?exclude=informer-sync" | grep -qx ok
}
wait_until apiserver "apiserver /readyz (except informer-sync)" apiserver_ready

# ---------------------------------------------------------------------------
# CRDs: kro's own (ResourceGraphDefinition, GraphRevision) and the stand-ins
# for built-in kinds. krosim-apply waits for each CRD to be Established.

log "applying kro CRDs ($KRO_CRDS) and stand-in CRDs"
"$BIN/krosim-apply" -kubeconfig "$KUBECONFIG_FILE" -timeout "${START_TIMEOUT}s" \
  apply "$KRO_CRDS"/*.yaml "$REPO_ROOT/testdata/realapi/standins.yaml" >"$LOGS/apply-crds.log" 2>&1 ||
  die "applying CRDs failed: $(tail -n 5 "$LOGS/apply-crds.log")"
log "CRDs established: $(grep -c '^applied' "$LOGS/apply-crds.log")"
crds_established_ms=$(date +%s%3N)

# kro resolves every resource's schema from /openapi/v3, which the server
# updates asynchronously after a CRD appears; an RGD applied before the
# stand-in group shows up there would be rejected (and retried with backoff).
openapi_has_standins() {
  curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "$APISERVER_URL/openapi/v3" | grep -q '"apis/standin.krosim.dev/v1"'
}
if [[ ${KROSIM_APISERVER:-krosim} == krosim ]]; then # upstream publishes no CRD schemas
  wait_until apiserver "stand-in schemas in /openapi/v3" openapi_has_standins
fi

# ---------------------------------------------------------------------------
# kro controller: default flags, except that its HTTP endpoints bind to
# loopback only (the defaults listen on all interfaces). The pprof address
# only matters for binaries built with -tags pprof.

if [[ ${KROSIM_SKIP_KRO:-0} == 1 ]]; then
  log "KROSIM_SKIP_KRO=1: not starting kro"
else
  # shellcheck disable=SC2086 # KROSIM_KRO_FLAGS is meant to be word-split
  start kro "$BIN/kro-controller" \
    --kubeconfig="$KUBECONFIG_FILE" \
    --metrics-bind-address="127.0.0.1:$KRO_METRICS_PORT" \
    --health-probe-bind-address="127.0.0.1:$KRO_PROBE_PORT" \
    --pprof-bind-address="127.0.0.1:$KRO_PPROF_PORT" \
    ${KROSIM_KRO_FLAGS:-}
  kro_ready() {
    curl -fsS "http://127.0.0.1:$KRO_PROBE_PORT/readyz" >/dev/null &&
      curl -fsS "http://127.0.0.1:$KRO_METRICS_PORT/metrics" >/dev/null
  }
  wait_until kro "kro /readyz and /metrics" kro_ready
  # /readyz is a plain ping; also wait for the RGD controller's workers, so
  # that callers can apply RGDs as soon as this script returns.
  kro_workers() { grep -q 'Starting workers.*ResourceGraphDefinition' "$LOGS/kro.log"; }
  wait_until kro "kro ResourceGraphDefinition workers" kro_workers
fi

# The server delays every create (POST) of a custom resource by 2 s while its
# CRD was Established less than 2 s ago (customresource_handler.go, meant for
# HA servers). Built-in kinds never do that, and kro POSTs GraphRevisions, so
# return only once the window has passed for the CRDs applied above.
settle_ms=$((crds_established_ms + 2000 - $(date +%s%3N)))
if ((settle_ms > 0)); then
  log "waiting ${settle_ms} ms for the CRDs' 2 s post-establishment create delay to pass"
  sleep "$((settle_ms / 1000)).$(printf '%03d' $((settle_ms % 1000)))"
fi

trap - EXIT
log "control plane is up; state in $STATE"
for c in "${COMPONENTS[@]}"; do
  pid=$(pid_alive "$c") && log "  $c PID $pid, log $LOGS/$c.log"
done
log "use it with: source $STATE/env"

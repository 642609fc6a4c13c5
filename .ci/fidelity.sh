#!/usr/bin/env bash
# make fidelity: real kro v0.9.4 on a real API server (.ci/realapi) against
# krosim's predictions, for every RGD of the fidelity set
# (testdata/realapi/fidelity/*.yaml and testdata/realapi/fidelity-rgd.yaml)
# at several worker counts and instance counts.
#
# One calibration of the harness predicts every row, and it never sees a
# fidelity RGD (leave-one-out by construction):
#   micro.yaml     krosim calibrate --kubeconfig --pid-dir: each verb's latency
#                  one request at a time on an idle server, and its CPU time
#                  on the server (how the server's CPU is shared among verbs,
#                  and how it grows with the object), and a write's watch
#                  event's CPU, the server's and a watcher's
#   cal-*/         real runs of the calibration RGDs (testdata/realapi/calibration)
#                  at 1, 2, 4 and 8 workers, five of each, create then delete,
#                  with the processes' CPU time (--pid-dir) and the LISTs' waits
#                  for the watch cache in each phase: how the CPU per request falls
#                  with concurrency; repeated because a run's CPU per request
#                  varies by a fifth from one fresh server to the next, and
#                  fitted on one run of each the 8-worker predictions' mean error
#                  ranged from 5% to 23% (testdata/realapi/fidelity.md)
#   harness.yaml   krosim calibrate --cpu-from cal-*: kro's CPU per request and
#                  per reconcile that resolves the graph, the server's CPU per
#                  request (the watch events' as measured), the CPU of waking
#                  the processes (shared by the requests in flight together), the
#                  latency kro saw; the API server, etcd and kro share the host's
#                  processors
# The harness restarts before every real run (a fresh server each time), and
# every real run records the host's load (results.json real.host): compare
# refuses a run taken on a busy host. Results go to OUT (out/fidelity):
# micro.yaml, cal-*/, harness.yaml, real-RGD-wW-nN-rR/, sim-RGD-wW-nN/,
# fidelity.md. FIDELITY_COMPARE_ONLY=1 skips the real runs and calibration and
# redoes the simulations and tables from OUT.
#
# Knobs (environment): FIDELITY_RGDS (the set), FIDELITY_WORKERS ("1 2 4 8"),
# FIDELITY_INSTANCES ("100"), FIDELITY_RUNS (1), FIDELITY_CAL_INSTANCES (100),
# FIDELITY_CAL_WORKERS ("1 2 4 8"), FIDELITY_CAL_RUNS (5),
# FIDELITY_OUT (out/fidelity), FIDELITY_CONVERGE (0.10) and FIDELITY_DELETE
# (0.05): the tolerances, FIDELITY_AT_PROBE (1; 0 predicts every row at the
# calibration's host speed rather than its runs'), and the harness's KROSIM_*
# knobs.
set -euo pipefail
cd "$(dirname "$0")/.."

RGDS=${FIDELITY_RGDS:-"testdata/realapi/fidelity-rgd.yaml testdata/realapi/fidelity-ready.yaml $(ls testdata/realapi/fidelity/*.yaml | tr '\n' ' ')"}
# An RGD with readyWhen waits for status a controller writes: the real runs
# start krosim's stand-in controller with READY's delays (--target), and the
# simulations use the same delays (--readiness).
READY=testdata/realapi/ready-target.yaml
WORKERS=${FIDELITY_WORKERS:-"1 2 4 8"}
INSTANCES=${FIDELITY_INSTANCES:-100}
RUNS=${FIDELITY_RUNS:-1}
CAL_INSTANCES=${FIDELITY_CAL_INSTANCES:-100}
CAL_WORKERS=${FIDELITY_CAL_WORKERS:-"1 2 4 8"}
CAL_RUNS=${FIDELITY_CAL_RUNS:-5}
OUT=${FIDELITY_OUT:-out/fidelity}
CONVERGE=${FIDELITY_CONVERGE:-0.10}
DELETE=${FIDELITY_DELETE:-0.05}
CRD=testdata/realapi/standins.yaml
KROSIM=bin/krosim
STATE=${KROSIM_REALAPI_DIR:-/tmp/krosim-realapi}

log() { printf '[fidelity] %s\n' "$*" >&2; }

make build
mkdir -p "$OUT"

up=0
down() { if ((up)); then .ci/realapi/down.sh >/dev/null || true; up=0; fi; }
# restart W: a fresh control plane with kro's worker count W.
restart() {
  down
  KROSIM_KRO_FLAGS="--dynamic-controller-concurrent-reconciles=$1 ${KROSIM_KRO_FLAGS:-}" .ci/realapi/up.sh >"$OUT/up.log" 2>&1 ||
    { cat "$OUT/up.log" >&2; exit 1; }
  up=1
  # shellcheck source=/dev/null # written by up.sh
  source "$STATE/env"
}
# ready RGD FLAG: FLAG and READY when a resource of RGD has a readyWhen (a
# key, not the word in a comment: fidelity-rgd.yaml's says it has none).
ready() { if grep -qE '^[^#]*readyWhen:' "$1"; then echo "$2 $READY"; fi; }
# real DIR RGD N W [FLAGS]: one real run on a fresh server.
real() {
  restart "$4"
  rm -rf "$1"
  $KROSIM run --kubeconfig "$KUBECONFIG" --kro-metrics "$KROSIM_KRO_METRICS_URL" --rgd "$2" --crd "$CRD" \
    --instances "$3" --workers "$4" --out "$1" --quiet "${@:5}"
}

if [[ ${FIDELITY_COMPARE_ONLY:-0} != 1 ]]; then
  .ci/realapi/build.sh
  trap down EXIT
  log "calibrating: the server one request at a time"
  restart 1
  $KROSIM calibrate --kubeconfig "$KUBECONFIG" --concurrency 1,4 --server-cpus "$(nproc)" --name fidelity-micro \
    --out "$OUT/micro.yaml"
  cal=()
  for ((r = 1; r <= CAL_RUNS; r++)); do
    for w in $CAL_WORKERS; do
      for f in testdata/realapi/calibration/*.yaml; do
        c=$OUT/cal-$(basename "$f" .yaml)-w$w-r$r
        log "calibration run: $f, $CAL_INSTANCES instances, $w worker(s), run $r of $CAL_RUNS"
        real "$c" "$f" "$CAL_INSTANCES" "$w" --delete
        cal+=(--cpu-from "$c")
      done
    done
  done
  $KROSIM calibrate --target "$OUT/micro.yaml" "${cal[@]}" --name harness --out "$OUT/harness.yaml"
  for rgd in $RGDS; do
    name=$(basename "$rgd" .yaml)
    for w in $WORKERS; do
      for n in $INSTANCES; do
        for ((r = 1; r <= RUNS; r++)); do
          log "real run: $name, $n instances, $w worker(s), run $r of $RUNS"
          # shellcheck disable=SC2046 # ready's words are flags
          real "$OUT/real-$name-w$w-n$n-r$r" "$rgd" "$n" "$w" --delete $(ready "$rgd" --target)
        done
      done
    done
  done
  down
fi

# atprobe: whether rows are predicted at the speed their own runs' host had,
# which the probe read while they ran: when the target knows the speed of
# the host it was calibrated on (speed.probe_us: its calibration runs probed
# their host) and FIDELITY_AT_PROBE is not 0 (the host ran a third faster
# within one hour of 2026-12-07, testdata/realapi/fidelity.md, "Sittings").
# speed REAL...: then, --host-probe-from every real run of a row.
atprobe() { [[ ${FIDELITY_AT_PROBE:-1} != 0 ]] && grep -q '^speed:' "$OUT/harness.yaml"; }
speed() {
  atprobe || return 0
  local d
  for d in "$@"; do printf -- '--host-probe-from %s ' "$d"; done
}

log "simulating and comparing"
{
  echo "Measured by \`make fidelity\` ($(date -u +%Y-%m-%d), $(nproc) CPUs, kro v0.9.4 with default flags but the worker count,"
  echo "$RUNS real run(s) per row on a fresh harness, create then delete). Every row is predicted by \`$OUT/harness.yaml\`,"
  echo "calibrated from the server alone and from runs of the calibration RGDs, never from a fidelity RGD."
  if atprobe; then
    echo "Each row is predicted at the speed its runs' host had, which their probe read (\`krosim run --host-probe-from\`)."
  fi
  echo
  $KROSIM compare -o markdown-header --rgd-column
} >"$OUT/fidelity.md"
status=0
for rgd in $RGDS; do
  name=$(basename "$rgd" .yaml)
  for w in $WORKERS; do
    for n in $INSTANCES; do
      sim=$OUT/sim-$name-w$w-n$n
      # shellcheck disable=SC2046 # ready's words are flags
      reals=("$OUT"/real-"$name"-w"$w"-n"$n"-r*)
      # shellcheck disable=SC2046 # ready's and speed's words are flags
      $KROSIM run --target "$OUT/harness.yaml" --rgd "$rgd" --crd "$CRD" --instances "$n" --workers "$w" --delete --out "$sim" --quiet \
        $(ready "$rgd" --readiness) $(speed "${reals[@]}")
      $KROSIM compare --tolerance "$CONVERGE" --delete-tolerance "$DELETE" "$sim" "${reals[@]}" >"$OUT/compare-$name-w$w-n$n.txt" || status=1
      $KROSIM compare --tolerance "$CONVERGE" --delete-tolerance "$DELETE" -o markdown --rgd-column "$sim" "${reals[@]}" >>"$OUT/fidelity.md" || true
    done
  done
done
cat "$OUT/fidelity.md"
log "wrote $OUT/fidelity.md"
exit $status

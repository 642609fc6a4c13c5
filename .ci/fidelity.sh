#!/usr/bin/env bash
# make fidelity: real kro v0.9.4 on a real API server against krosim's
# simulation of the same workload, on testdata/realapi/fidelity-rgd.yaml.
#
# For each worker count it (re)starts the real control plane (.ci/realapi)
# with kro's --dynamic-controller-concurrent-reconciles set, calibrates,
# runs every instance count RUNS times (create, then delete), and stops it.
# Calibration, before the measured runs:
#   target-micro.yaml  krosim calibrate --kubeconfig (first server only):
#                      request latency one request at a time on an idle server,
#                      served by as many processors as this host has
#   target-wW.yaml     krosim calibrate --from: the latency kro saw and the
#                      per-reconcile time it spent in a separate calibration
#                      run of CAL_INSTANCES instances with the same workers
# The simulations use target-wW-cal.yaml, calibrated from run 1 of the
# middle instance count (FIDELITY_CAL_FROM) and, for how requests slow down
# with the objects stored, run 1 of the largest (FIDELITY_CAL_LARGE), and
# compared with every run it did not see (the first table: the prediction),
# target-wW.yaml (the second) and target-micro.yaml (the third). Results go to OUT (out/fidelity):
# calibration-wW/, real-wW-nN-rR/, sim*-wW-nN/, compare-wW-nN.txt and
# fidelity.md. FIDELITY_COMPARE_ONLY=1 skips the real runs and redoes the
# simulations and tables from OUT.
#
# Knobs (environment): FIDELITY_INSTANCES ("50 200 500"), FIDELITY_WORKERS
# ("1 4"), FIDELITY_RUNS (3), FIDELITY_CAL_INSTANCES (20), FIDELITY_OUT
# (out/fidelity), FIDELITY_TOLERANCE (0.15), FIDELITY_CAL_FROM (the middle of
# FIDELITY_INSTANCES), FIDELITY_CAL_LARGE (the last of FIDELITY_INSTANCES;
# empty: no slowdown fitted), and the harness's KROSIM_* knobs.
set -euo pipefail
cd "$(dirname "$0")/.."

INSTANCES=${FIDELITY_INSTANCES:-"50 200 500"}
WORKERS=${FIDELITY_WORKERS:-"1 4"}
RUNS=${FIDELITY_RUNS:-3}
CAL_INSTANCES=${FIDELITY_CAL_INSTANCES:-20}
OUT=${FIDELITY_OUT:-out/fidelity}
TOLERANCE=${FIDELITY_TOLERANCE:-0.15}
RGD=testdata/realapi/fidelity-rgd.yaml
KROSIM=bin/krosim
STATE=${KROSIM_REALAPI_DIR:-/tmp/krosim-realapi}

log() { printf '[fidelity] %s\n' "$*" >&2; }

make build
mkdir -p "$OUT"
if [[ ${FIDELITY_COMPARE_ONLY:-0} != 1 ]]; then
.ci/realapi/build.sh

up=0
down() { if ((up)); then .ci/realapi/down.sh || true; up=0; fi; }
trap down EXIT

first=1
for w in $WORKERS; do
  log "starting the real control plane with $w worker(s)"
  KROSIM_KRO_FLAGS="--dynamic-controller-concurrent-reconciles=$w ${KROSIM_KRO_FLAGS:-}" .ci/realapi/up.sh
  up=1
  # shellcheck source=/dev/null # written by up.sh
  source "$STATE/env"
  if ((first)); then
    log "calibrating on the idle server"
    # The API server, etcd and kro share this host's processors: the targets
    # serve requests on as many (server.cpus), and calibrate --from below
    # splits the latency kro saw into work and the wait for one.
    $KROSIM calibrate --kubeconfig "$KUBECONFIG" --concurrency 1,4 --server-cpus "$(nproc)" --name fidelity-micro \
      --out "$OUT/target-micro.yaml"
    first=0
  fi
  log "calibration run: $CAL_INSTANCES instances, $w worker(s)"
  rm -rf "$OUT/calibration-w$w"
  $KROSIM run --kubeconfig "$KUBECONFIG" --kro-metrics "$KROSIM_KRO_METRICS_URL" --rgd "$RGD" \
    --instances "$CAL_INSTANCES" --workers "$w" --delete --out "$OUT/calibration-w$w" --quiet
  for n in $INSTANCES; do
    for ((r = 1; r <= RUNS; r++)); do
      dir=$OUT/real-w$w-n$n-r$r
      log "real run: $n instances, $w worker(s), run $r of $RUNS"
      rm -rf "$dir"
      $KROSIM run --kubeconfig "$KUBECONFIG" --kro-metrics "$KROSIM_KRO_METRICS_URL" --rgd "$RGD" \
        --instances "$n" --workers "$w" --delete --out "$dir" --quiet
    done
  done
  down
done
fi

log "simulating and comparing"
read -r -a ns <<<"$INSTANCES"
CAL_FROM=${FIDELITY_CAL_FROM:-${ns[$((${#ns[@]} / 2))]}}
CAL_LARGE=${FIDELITY_CAL_LARGE-${ns[-1]}}
if [[ $CAL_LARGE == "$CAL_FROM" ]]; then CAL_LARGE=; fi
seen=("$CAL_FROM" $CAL_LARGE)
header=$($KROSIM compare -o markdown-header)
{
  echo "Measured by \`make fidelity\` ($(date -u +%Y-%m-%d), $(nproc) CPUs, kro v0.9.4 with default flags but the worker count,"
  echo "$RUNS real runs per row, create then delete). Simulated with \`$OUT/target-wW-cal.yaml\`: \`krosim calibrate --from\` run 1"
  echo "of the ${CAL_FROM}${CAL_LARGE:+ and $CAL_LARGE}-instance rows with the same workers; those rows are compared with their other runs only."
  echo
  echo "$header"
} >"$OUT/fidelity.md"
small=("" "Calibrated from the separate $CAL_INSTANCES-instance run with the same workers (\`$OUT/target-wW.yaml\`):" "" "$header")
micro=("" "With \`$OUT/target-micro.yaml\` (\`krosim calibrate --kubeconfig\`: latency one request at a time on an idle server):" "" "$header")
status=0
for w in $WORKERS; do
  from=(--from "$OUT/real-w$w-n$CAL_FROM-r1")
  if [[ -n $CAL_LARGE ]]; then from+=(--from "$OUT/real-w$w-n$CAL_LARGE-r1"); fi
  $KROSIM calibrate --target "$OUT/target-micro.yaml" "${from[@]}" --name "fidelity-w$w" \
    --out "$OUT/target-w$w-cal.yaml" 2>/dev/null
  $KROSIM calibrate --target "$OUT/target-micro.yaml" --from "$OUT/calibration-w$w" --name "fidelity-w$w-small" \
    --out "$OUT/target-w$w.yaml" 2>/dev/null
  for n in $INSTANCES; do
    reals=()
    for ((r = 1; r <= RUNS; r++)); do reals+=("$OUT/real-w$w-n$n-r$r"); done
    unseen=("${reals[@]}")
    if [[ " ${seen[*]} " == *" $n "* ]] && ((RUNS > 1)); then unseen=("${reals[@]:1}"); fi
    for kind in "" -small -micro; do
      sim=$OUT/sim$kind-w$w-n$n
      case $kind in
      "") tgt=$OUT/target-w$w-cal.yaml ;;
      -small) tgt=$OUT/target-w$w.yaml ;;
      -micro) tgt=$OUT/target-micro.yaml ;;
      esac
      $KROSIM run --target "$tgt" --rgd "$RGD" --instances "$n" --workers "$w" --delete --out "$sim" --quiet
      case $kind in
      "")
        $KROSIM compare --tolerance "$TOLERANCE" "$sim" "${unseen[@]}" >"$OUT/compare-w$w-n$n.txt" || status=1
        $KROSIM compare --tolerance "$TOLERANCE" -o markdown "$sim" "${unseen[@]}" >>"$OUT/fidelity.md" || true
        ;;
      -small) small+=("$($KROSIM compare --tolerance "$TOLERANCE" -o markdown "$sim" "${reals[@]}" || true)") ;;
      -micro) micro+=("$($KROSIM compare --tolerance "$TOLERANCE" -o markdown "$sim" "${reals[@]}" || true)") ;;
      esac
    done
  done
done
printf '%s\n' "${small[@]}" >>"$OUT/fidelity.md"
printf '%s\n' "${micro[@]}" >>"$OUT/fidelity.md"
w1=${WORKERS%% *}
{
  echo
  echo "Requests per instance by resource and verb ($CAL_FROM instances, $w1 worker(s)):"
  echo
  $KROSIM compare -o counts "$OUT/sim-w$w1-n$CAL_FROM" "$OUT"/real-w"$w1"-n"$CAL_FROM"-r* || true
} >>"$OUT/fidelity.md"
cat "$OUT/fidelity.md"
log "wrote $OUT/fidelity.md"
exit $status

#!/usr/bin/env bash
# make fidelity: real kro v0.9.4 on a real API server against krosim's
# simulation of the same workload, on testdata/realapi/fidelity-rgd.yaml.
#
# For each worker count it (re)starts the real control plane (.ci/realapi)
# with kro's --dynamic-controller-concurrent-reconciles set, calibrates,
# runs every instance count RUNS times (create, then delete), and stops it.
# Calibration, before the measured runs:
#   target-micro.yaml  krosim calibrate --kubeconfig (first server only):
#                      request latency one request at a time on an idle server
#   target-wW.yaml     krosim calibrate --from: the latency kro saw and the
#                      per-reconcile time it spent in a separate calibration
#                      run of CAL_INSTANCES instances with the same workers
# The simulations use target-wW.yaml (the table; a prediction of the larger
# runs from the small one) and target-micro.yaml (a second table, for the
# record). Results go to OUT (out/fidelity): calibration-wW/, real-wW-nN-rR/,
# sim-wW-nN/, compare-wW-nN.txt and fidelity.md.
#
# Knobs (environment): FIDELITY_INSTANCES ("50 200 500"), FIDELITY_WORKERS
# ("1 4"), FIDELITY_RUNS (3), FIDELITY_CAL_INSTANCES (20), FIDELITY_OUT
# (out/fidelity), FIDELITY_TOLERANCE (0.15), and the harness's KROSIM_* knobs.
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
.ci/realapi/build.sh
mkdir -p "$OUT"

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
    $KROSIM calibrate --kubeconfig "$KUBECONFIG" --concurrency 1,4 --name fidelity-micro --out "$OUT/target-micro.yaml"
    first=0
  fi
  log "calibration run: $CAL_INSTANCES instances, $w worker(s)"
  rm -rf "$OUT/calibration-w$w"
  $KROSIM run --kubeconfig "$KUBECONFIG" --kro-metrics "$KROSIM_KRO_METRICS_URL" --rgd "$RGD" \
    --instances "$CAL_INSTANCES" --workers "$w" --delete --out "$OUT/calibration-w$w" --quiet
  $KROSIM calibrate --target "$OUT/target-micro.yaml" --from "$OUT/calibration-w$w" --name "fidelity-w$w" --out "$OUT/target-w$w.yaml"
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

log "simulating and comparing"
header='| instances | workers | reconciles per instance, sim / real runs | API calls per instance, sim / real runs | counts | converge s, sim | converge s, real median (runs) | error |'
rule='|---|---|---|---|---|---|---|---|'
{
  echo "Measured by \`make fidelity\` ($(date -u +%Y-%m-%d), $(nproc) CPUs, kro v0.9.4 with default flags but the worker count,"
  echo "$RUNS real runs per row, create then delete). Simulated with \`$OUT/target-wW.yaml\`, calibrated from a separate"
  echo "$CAL_INSTANCES-instance real run with the same workers (\`krosim calibrate --from\`)."
  echo
  echo "$header"
  echo "$rule"
} >"$OUT/fidelity.md"
micro=("" "With \`$OUT/target-micro.yaml\` (\`krosim calibrate --kubeconfig\`: latency one request at a time on an idle server):" "" "$header" "$rule")
status=0
for w in $WORKERS; do
  for n in $INSTANCES; do
    reals=()
    for ((r = 1; r <= RUNS; r++)); do reals+=("$OUT/real-w$w-n$n-r$r"); done
    for kind in "" -micro; do
      sim=$OUT/sim$kind-w$w-n$n
      tgt=$OUT/target-w$w.yaml
      [[ -z $kind ]] || tgt=$OUT/target-micro.yaml
      $KROSIM run --target "$tgt" --rgd "$RGD" --instances "$n" --workers "$w" --delete --out "$sim" --quiet
      if [[ -z $kind ]]; then
        $KROSIM compare --tolerance "$TOLERANCE" "$sim" "${reals[@]}" >"$OUT/compare-w$w-n$n.txt" || status=1
        $KROSIM compare --tolerance "$TOLERANCE" --format markdown "$sim" "${reals[@]}" >>"$OUT/fidelity.md" || true
      else
        micro+=("$($KROSIM compare --tolerance "$TOLERANCE" --format markdown "$sim" "${reals[@]}" || true)")
      fi
    done
  done
done
printf '%s\n' "${micro[@]}" >>"$OUT/fidelity.md"
read -r -a ns <<<"$INSTANCES"
n2=${ns[1]:-${ns[0]}}
w1=${WORKERS%% *}
{
  echo
  echo "Requests per instance by resource and verb ($n2 instances, $w1 worker(s)):"
  echo
  $KROSIM compare --format counts "$OUT/sim-w$w1-n$n2" "$OUT"/real-w"$w1"-n"$n2"-r* || true
} >>"$OUT/fidelity.md"
cat "$OUT/fidelity.md"
log "wrote $OUT/fidelity.md"
exit $status

#!/usr/bin/env bash
# End-to-end check of the real control plane: build (cached), start it, let kro
# create the children of testdata/realapi/webapp-rgd.yaml for one instance,
# delete the instance and check kro removes them again, then stop everything.
# Exits non-zero on the first failure; the harness is always stopped.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TESTDATA=$(cd "$HERE/../../testdata/realapi" && pwd)

log() { printf '[e2e] %s\n' "$*" >&2; }

"$HERE/build.sh"
"$HERE/up.sh"
trap '"$HERE/down.sh"' EXIT

# shellcheck source=/dev/null # written by up.sh
source "${KROSIM_REALAPI_DIR:-/tmp/krosim-realapi}/env"
kapply() { "${KROSIM_CACHE:-$HOME/.cache/krosim}/bin/krosim-apply" -timeout 60s "$@"; }
ms() { date +%s%3N; }

t0=$(ms)
kapply apply "$TESTDATA/webapp-rgd.yaml"
kapply wait kro.run/v1alpha1 ResourceGraphDefinition webapp.krosim.dev Ready
log "RGD Ready after $(($(ms) - t0)) ms"

t0=$(ms)
kapply apply "$TESTDATA/webapp-instance.yaml"
kapply wait kro.run/v1alpha1 WebApp krosim-demo/demo Ready
log "instance Ready after $(($(ms) - t0)) ms"

# The children, with values that went through kro's CEL wiring.
kapply wait standin.krosim.dev/v1 StandinConfigMap krosim-demo/demo-config 'data.PORT=9090'
kapply wait standin.krosim.dev/v1 StandinDeployment krosim-demo/demo 'spec.replicas=2'
kapply wait standin.krosim.dev/v1 StandinService krosim-demo/demo 'spec.selector.app=demo'
kapply wait kro.run/v1alpha1 WebApp krosim-demo/demo 'status.endpoint=demo:80'

t0=$(ms)
kapply delete "$TESTDATA/webapp-instance.yaml"
kapply wait-gone kro.run/v1alpha1 WebApp krosim-demo/demo
log "instance deleted after $(($(ms) - t0)) ms"
for kind in StandinConfigMap StandinDeployment StandinService; do
  left=$(kapply list standin.krosim.dev/v1 "$kind" krosim-demo)
  [[ -z $left ]] || {
    log "FAIL: $kind left behind: $left"
    exit 1
  }
done

log "PASS"

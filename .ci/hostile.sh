#!/usr/bin/env bash
# Runs krosim on every hostile input of testdata/hostile (RGDs for validate,
# target files, runs that must not claim success, CEL bombs) and on bad
# command lines, each under /usr/bin/time, and fails when one panics, hangs
# or runs over 30 s, uses over 3 GiB, exits 0 where it must not, or rejects
# a file without a file:line:col position. Prints one line per case.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/krosim
go build -o "$bin" ./cmd/krosim || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$(dirname "$bin")"' EXIT
fail=0 cases=0
# check LABEL WANT(ok|reject|usage|incomplete) ARGS...
check() {
  local label=$1 want=$2; shift 2
  cases=$((cases + 1))
  timeout 60 /usr/bin/time -f '%e %M' -o "$tmp/time" "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$? secs kb first
  read -r secs kb < <(tail -1 "$tmp/time")
  first=$(head -1 "$tmp/err" | cut -c1-100)
  printf '%-46s exit %d %6ss %7s KB  %s\n' "$label" "$rc" "$secs" "$kb" "$first"
  local bad=""
  grep -q 'panic:\|goroutine [0-9]* \[' "$tmp/err" && bad="panicked"
  [ "$rc" -ge 124 ] && bad="killed or timed out (exit $rc)"
  awk -v s="$secs" 'BEGIN{exit !(s > 30)}' && bad="over 30 s"
  [ "${kb:-0}" -gt $((3 << 20)) ] && bad="over 3 GiB"
  case $want in
  ok) [ "$rc" = 0 ] || bad="${bad:-exit $rc, want 0}" ;;
  reject) { [ "$rc" = 1 ] && grep -q '^[^ ]*:[0-9]*:[0-9]*: ' "$tmp/err"; } || bad="${bad:-no positioned error with exit 1}" ;;
  target) { [ "$rc" = 2 ] && grep -q ':[0-9]*:[0-9]*: ' "$tmp/err"; } || bad="${bad:-no positioned error with exit 2}" ;;
  usage) [ "$rc" = 2 ] || bad="${bad:-exit $rc, want 2}" ;;
  incomplete) [ "$rc" = 1 ] || bad="${bad:-exit $rc, want 1}" ;;
  esac
  if [ -n "$bad" ]; then echo "  FAIL: $bad"; fail=$((fail + 1)); fi
}
for f in testdata/hostile/*.yaml; do
  case $(basename "$f") in ok-*) check "validate $(basename "$f")" ok validate "$f" ;; *) check "validate $(basename "$f")" reject validate "$f" ;; esac
done
check "validate /dev/zero" reject validate /dev/zero
head -c $((17 << 20)) /dev/zero | tr '\0' a >"$tmp/big.yaml"
check "validate 17 MiB" reject validate "$tmp/big.yaml"
{ printf 'apiVersion: kro.run/v1alpha1\nkind: ResourceGraphDefinition\nmetadata: {'; yes 'a: 1, ' | head -n 2000000 | tr -d '\n'; echo '}'; } >"$tmp/keys.yaml"
check "validate 12 MB of keys" reject validate "$tmp/keys.yaml"
for f in testdata/hostile/target/*.yaml; do
  check "run --target $(basename "$f")" target run --rgd testdata/rgd/webapp.yaml --instances 2 --target "$f" --out "$tmp/o"
done
for f in testdata/hostile/lies/*.yaml testdata/hostile/bombs/*.yaml; do
  case $(basename "$f") in
  faults-*) # targets that inject server faults into the example's run
    check "run lies/$(basename "$f")" incomplete run --rgd testdata/rgd/webapp.yaml --target "$f" --instances 20 --delete --max-time 1h --out "$tmp/o" ;;
  *) check "run $(basename "$(dirname "$f")")/$(basename "$f")" incomplete run --rgd "$f" --instances 5 --delete --max-time 1h --out "$tmp/o" ;;
  esac
done
for a in "--instances 9223372036854775807" "--instances 1e9" "--workers 100000000" "--qps NaN" "--qps Inf" \
  "--rate 1e-12 --arrival rate" "--update 2" "--wall-limit 0" "--max-time -1s" "--cel-cost-limit -1"; do
  # shellcheck disable=SC2086
  check "run $a" usage run --rgd testdata/rgd/webapp.yaml $a --out "$tmp/o"
done
check "calibrate --out into a missing directory" usage calibrate --out "$tmp/missing/t.yaml"
check "calibrate --out over a directory" usage calibrate --out "$tmp"
echo "$cases cases, $fail failed"
[ "$fail" = 0 ]

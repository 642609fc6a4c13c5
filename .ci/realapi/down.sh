#!/usr/bin/env bash
# Stop the real control plane started by up.sh: kro, then the API server, then
# etcd (reverse start order), each by the PID recorded in the state dir.
# SIGTERM first; SIGKILL if a process is still alive after
# ${KROSIM_STOP_TIMEOUT:-15} seconds. Safe to run any number of times; the
# state dir (logs, etcd data) is kept for inspection and wiped by the next up.sh.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STOP_TIMEOUT=${KROSIM_STOP_TIMEOUT:-15}

log() { printf '[down] %s\n' "$*" >&2; }

# running PID: the process exists and is not a zombie (a zombie has no exe
# link; it is not our child, so we cannot reap it, only wait for its parent).
running() { readlink "/proc/$1/exe" >/dev/null 2>&1; }

stop() {
  local name=$1 pid start
  if ! pid=$(pid_alive "$name"); then
    rm -f "$PIDS/$name.pid" "$PIDS/$name.exe"
    return 0
  fi
  log "stopping $name (PID $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  start=$SECONDS
  while running "$pid"; do
    if ((SECONDS - start >= STOP_TIMEOUT)); then
      log "$name (PID $pid) still running after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  # SIGKILL cannot be ignored; give the kernel a moment to tear it down.
  local i=0
  while running "$pid" && ((i++ < 50)); do sleep 0.1; done
  running "$pid" && { log "ERROR: $name (PID $pid) survived SIGKILL"; return 1; }
  rm -f "$PIDS/$name.pid" "$PIDS/$name.exe"
  log "$name stopped after $((SECONDS - start))s"
}

for ((n = ${#COMPONENTS[@]} - 1; n >= 0; n--)); do
  stop "${COMPONENTS[n]}"
done
log "nothing of the harness is running (state kept in $STATE)"

#!/usr/bin/env bash
# edged's benchmark driver (run by `make bench` after `make build plugins`):
# for each repetition and scenario, starts each server fresh (edged with the
# echo plugin, edged with native Go handlers, Node.js socket.io) pinned to
# CPU 0, runs the load tool pinned to CPU 1, then prints the medians and the
# ratios. Tunables (environment): REPS, IDLE_N, RECEIVERS, BCAST_WINDOW,
# BCAST_RATE, ECHO_C, ECHO_RATE, ECHO_PACED_RATE, CHURN_C, DURATION, SERVERS, SCENARIOS, OUT.
# Broadcast is closed loop by default (BCAST_RATE=0: at most BCAST_WINDOW
# messages in flight, the server runs saturated); BCAST_RATE=R > 0 paces the
# sender at R messages/s instead (a lightly loaded server, no coalescing).
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${REPS:-3}
IDLE_N=${IDLE_N:-10000}
RECEIVERS=${RECEIVERS:-1000}
BCAST_WINDOW=${BCAST_WINDOW:-32}
BCAST_RATE=${BCAST_RATE:-0}
ECHO_C=${ECHO_C:-50}
ECHO_RATE=${ECHO_RATE:-0}
ECHO_PACED_RATE=${ECHO_PACED_RATE:-15000}
CHURN_C=${CHURN_C:-20}
DURATION=${DURATION:-10s}
SERVERS=${SERVERS:-"edged-plugin edged-native node edged-c"}
SCENARIOS=${SCENARIOS:-"idle broadcast echo echo-paced churn"}
BENCH_DIR=build/bench
OUT=${OUT:-$BENCH_DIR/results-$(date +%Y%m%d-%H%M%S).jsonl}

mkdir -p "$BENCH_DIR/plugins" "$BENCH_DIR/plugins-c"
rm -f "$BENCH_DIR/plugins/"* "$BENCH_DIR/plugins-c/"*
cp build/plugins/echo.wasm "$BENCH_DIR/plugins/"
cp build/plugins/cecho.wasm build/plugins/cecho.json "$BENCH_DIR/plugins-c/"
go build -o "$BENCH_DIR/load" ./bench/load
go build -o "$BENCH_DIR/native" ./bench/native
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# each side needs one descriptor per idle connection, plus some
fds=$(ulimit -n)
if [ "$fds" != unlimited ] && [ "$IDLE_N" -gt $((fds - 200)) ]; then
  echo "IDLE_N=$IDLE_N is over the open-file limit ($fds); using $((fds - 200))" >&2
  IDLE_N=$((fds - 200))
fi

CPUS=$(nproc)
if [ "$CPUS" -ge 2 ]; then SRV_PIN=(taskset -c 0); LOAD_PIN=(taskset -c 1); else SRV_PIN=(); LOAD_PIN=(); fi

port=23100
PID=""
stop_server() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  PID=""
}
trap stop_server EXIT

start_server() { # name port
  case "$1" in
    edged-plugin) "${SRV_PIN[@]}" bin/edged --listen "127.0.0.1:$2" --plugins "$BENCH_DIR/plugins" --data "" --log-level warn & ;;
    edged-native) "${SRV_PIN[@]}" "$BENCH_DIR/native" --listen "127.0.0.1:$2" & ;;
    edged-c) "${SRV_PIN[@]}" bin/edged --listen "127.0.0.1:$2" --plugins "$BENCH_DIR/plugins-c" --data "" --log-level warn & ;;
    node) "${SRV_PIN[@]}" node bench/node/server.mjs --listen "127.0.0.1:$2" & ;;
    *) echo "unknown server $1" >&2; exit 2 ;;
  esac
  PID=$!
}

nsp_for() { # server: the C plugin (examples/plugins/cecho) serves /c
  if [ "$1" = edged-c ]; then echo /c; else echo /; fi
}

args_for() { # scenario
  case "$1" in
    idle) echo "-n $IDLE_N -hold 3s" ;;
    broadcast) echo "-n $RECEIVERS -window $BCAST_WINDOW -rate $BCAST_RATE -duration $DURATION -max 1000000" ;;
    echo) echo "-c $ECHO_C -echo-rate $ECHO_RATE -duration $DURATION" ;;
    echo-paced) echo "-c $ECHO_C -echo-rate $ECHO_PACED_RATE -duration $DURATION" ;;
    churn) echo "-c $CHURN_C -duration 5s -max 15000" ;;
  esac
}

echo "results: $OUT"
for rep in $(seq 1 "$REPS"); do
  for sc in $SCENARIOS; do
    for srv in $SERVERS; do
      port=$((port + 1))
      [ "$port" -lt 32000 ] || port=23101
      start_server "$srv" "$port"
      # shellcheck disable=SC2046
      if ! "${LOAD_PIN[@]}" "$BENCH_DIR/load" -scenario "$sc" -addr "127.0.0.1:$port" -pid "$PID" \
          -server "$srv" -rep "$rep" -out "$OUT" -nsp "$(nsp_for "$srv")" $(args_for "$sc") 2>"$BENCH_DIR/last.log"; then
        echo "rep $rep $sc $srv: FAILED: $(tail -1 "$BENCH_DIR/last.log")" >&2
      else
        echo "rep $rep $sc $srv: done"
      fi
      stop_server
    done
  done
done
echo
"$BENCH_DIR/load" report "$OUT"

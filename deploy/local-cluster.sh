#!/usr/bin/env bash
# Starts, stops or shows a cluster of Actors silos on this machine. The silos share one SQLite
# membership file (they find each other through it; no ZooKeeper) and one SQLite grain-state
# file; each has its own data folder for its logs.
#
#   deploy/local-cluster.sh start  [--silos 3] [--dir ./data/local-cluster] [--silo-port 11111] [--gateway-port 30000] [--kafka-port 9092] [--http-port 8080]
#   deploy/local-cluster.sh stop   [--dir ./data/local-cluster]     # graceful: SIGTERM, silos leave the cluster
#   deploy/local-cluster.sh kill   <n> [--dir ./data/local-cluster] # SIGKILL silo <n>; the others declare it Dead
#   deploy/local-cluster.sh restart <n> [--dir ./data/local-cluster] # start silo <n> again (a new incarnation)
#   deploy/local-cluster.sh status [--dir ./data/local-cluster]
#
# Silo <n> (1-based) listens on silo port <silo-port>+n-1, gateway port <gateway-port>+n-1, Kafka port <kafka-port>+n-1
# and HTTP port <http-port>+n-1 (/health, /metrics),
# is named "silo<n>", keeps its files in <dir>/silo<n> and logs to <dir>/silo<n>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

command="${1:-}"; shift || true
target=""
if [[ "$command" == "kill" || "$command" == "restart" ]]; then
  target="${1:?usage: $0 $command <n>}"; shift
fi
silos=3; dir="./data/local-cluster"; silo_port=11111; gateway_port=30000; kafka_port=9092; http_port=8080
while [[ $# -gt 0 ]]; do
  case "$1" in
    --silos) silos="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --silo-port) silo_port="$2"; shift 2 ;;
    --gateway-port) gateway_port="$2"; shift 2 ;;
    --kafka-port) kafka_port="$2"; shift 2 ;;
    --http-port) http_port="$2"; shift 2 ;;
    *) echo "unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
# Remember the layout so stop/kill/restart/status need only --dir.
if [[ "$command" == "start" ]]; then
  printf 'silos=%s\nsilo_port=%s\ngateway_port=%s\nkafka_port=%s\nhttp_port=%s\n' "$silos" "$silo_port" "$gateway_port" "$kafka_port" "$http_port" > "$dir/cluster.conf"
elif [[ -f "$dir/cluster.conf" ]]; then
  # shellcheck disable=SC1091
  source "$dir/cluster.conf"
fi
silo_dll="silo/Actors.Silo/bin/Release/net10.0/Actors.Silo.dll"

pid_of() { [[ -f "$dir/silo$1.pid" ]] && cat "$dir/silo$1.pid" || true; }
alive() { local pid; pid="$(pid_of "$1")"; [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; }

started_count() { grep -c "Silo silo$1 started at" "$dir/silo$1.log" 2>/dev/null || true; }

start_silo() {
  local n="$1"
  if alive "$n"; then echo "silo$n is already running (pid $(pid_of "$n"))"; return; fi
  mkdir -p "$dir/silo$n"
  started_count "$n" > "$dir/silo$n.starts"
  Actors__Silo__Name="silo$n" \
  Actors__Silo__SiloPort="$((silo_port + n - 1))" \
  Actors__Silo__GatewayPort="$((gateway_port + n - 1))" \
  Actors__Kafka__Port="$((kafka_port + n - 1))" \
  Actors__Http__Port="$((http_port + n - 1))" \
  Actors__Silo__DataDirectory="$dir/silo$n" \
  Actors__Clustering__Sqlite__DatabasePath="$dir/cluster.db" \
  Actors__GrainStorage__Sqlite__DatabasePath="$dir/grains.db" \
    nohup dotnet "$silo_dll" >> "$dir/silo$n.log" 2>&1 &
  echo $! > "$dir/silo$n.pid"
}

# Waits until the silo logs that it started: it listens and is Active in the membership table.
wait_listening() {
  local n="$1" port="$((gateway_port + $1 - 1))" deadline=$((SECONDS + 60)) before
  before="$(cat "$dir/silo$n.starts" 2>/dev/null || echo 0)"
  until (( $(started_count "$n") > before )); do
    if ! alive "$n"; then echo "silo$n exited; see $dir/silo$n.log:" >&2; tail -20 "$dir/silo$n.log" >&2; exit 1; fi
    if (( SECONDS > deadline )); then echo "silo$n did not become Active within 60 s; see $dir/silo$n.log" >&2; exit 1; fi
    sleep 0.2
  done
  echo "silo$n up: pid $(pid_of "$n"), silo port $((silo_port + n - 1)), gateway port $port, Kafka port $((kafka_port + n - 1)), HTTP port $((http_port + n - 1))"
}

case "$command" in
  start)
    dotnet build -c Release silo/Actors.Silo -v quiet -nologo
    for n in $(seq 1 "$silos"); do start_silo "$n"; done
    for n in $(seq 1 "$silos"); do wait_listening "$n"; done
    echo "membership: $dir/cluster.db; grain state: $dir/grains.db; logs: $dir/silo<n>.log"
    ;;
  stop)
    for n in $(seq 1 "$silos"); do
      if alive "$n"; then kill -TERM "$(pid_of "$n")"; fi
    done
    for n in $(seq 1 "$silos"); do
      deadline=$((SECONDS + 60))
      while alive "$n"; do
        if (( SECONDS > deadline )); then echo "silo$n did not stop within 60 s; sending SIGKILL" >&2; kill -KILL "$(pid_of "$n")"; fi
        sleep 0.2
      done
      rm -f "$dir/silo$n.pid"
    done
    echo "stopped"
    ;;
  kill)
    if alive "$target"; then
      kill -KILL "$(pid_of "$target")"
      while alive "$target"; do sleep 0.05; done
      echo "silo$target killed (SIGKILL); the others declare it Dead within seconds"
    else
      echo "silo$target is not running"
    fi
    ;;
  restart)
    start_silo "$target"; wait_listening "$target"
    ;;
  status)
    for n in $(seq 1 "$silos"); do
      if alive "$n"; then echo "silo$n running (pid $(pid_of "$n"))"; else echo "silo$n not running"; fi
    done
    if command -v sqlite3 >/dev/null && [[ -f "$dir/cluster.db" ]]; then
      sqlite3 -header -column "$dir/cluster.db" \
        "SELECT silo_name, address, CASE status WHEN 2 THEN 'Joining' WHEN 3 THEN 'Active' WHEN 4 THEN 'ShuttingDown' WHEN 5 THEN 'Stopping' WHEN 6 THEN 'Dead' ELSE status END AS status, proxy_port AS gateway_port FROM orleans_membership ORDER BY silo_name, address;"
    fi
    ;;
  *)
    sed -n '2,17p' "$0" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The seeds' perf tools against local clusters of real silo processes, each silo capped at a 400 MiB GC heap as
# the seeds cap Kafka at -Xmx400m:
#   1 silo,  RF 1, acks=1    then consumer-perf-test
#   3 silos, RF 3, acks=all (min.insync.replicas 2, idempotent) then consumer-perf-test
# Prints each tool's summary line, the silos' peak RSS (VmHWM), and then the `kafka` benchmark of the same run
# (its direct-to-grain limit beside Confluent.Kafka through the listener) for comparison.
# Usage: bench/perf-test.sh [--records N] [--no-kafka-bench]
set -euo pipefail
cd "$(dirname "$0")/.."
records=1000000; kafka_bench=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --records) records="$2"; shift 2 ;;
    --no-kafka-bench) kafka_bench=0; shift ;;
    *) echo "unknown option $1 (--records N, --no-kafka-bench)" >&2; exit 2 ;;
  esac
done
dir="$(mktemp -d /tmp/actors-perf-test.XXXXXX)"
export DOTNET_GCHeapHardLimit=0x19000000
export ACTORS_MIN_INSYNC_REPLICAS=2
bin/actors --help > /dev/null
peak_rss() {
  local silos="$1" n pid
  for n in $(seq 1 "$silos"); do
    pid="$(cat "$dir/c$silos/silo$n.pid")"
    echo "perf-test silo$n peak-rss=$(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/$pid/status") heap-limit=400 MiB"
  done
}
run() {
  local silos="$1" rf="$2" acks="$3"
  local kafka_port=$((19092 + silos * 10)) http_port=$((18080 + silos * 10))
  deploy/local-cluster.sh start --silos "$silos" --dir "$dir/c$silos" --silo-port $((21111 + silos * 10)) \
    --gateway-port $((31000 + silos * 10)) --kafka-port "$kafka_port" --http-port "$http_port" > /dev/null
  trap "deploy/local-cluster.sh stop --dir '$dir/c$silos' > /dev/null" EXIT
  local bootstrap="127.0.0.1:$kafka_port" topic="perf-rf$rf"
  bin/actors topics --create --bootstrap-server "$bootstrap" --topic "$topic" --partitions 1 --replication-factor "$rf" > /dev/null
  echo "perf-test setup=$silos-silo rf=$rf acks=$acks records=$records record-size=100"
  bin/actors producer-perf-test --bootstrap-server "$bootstrap" --topic "$topic" --num-records "$records" --record-size 100 \
    --throughput -1 --producer-props "acks=$acks" linger.ms=5 batch.size=16384 | tail -1
  bin/actors consumer-perf-test --bootstrap-server "$bootstrap" --topic "$topic" --messages "$records" | tail -2
  peak_rss "$silos"
  deploy/local-cluster.sh stop --dir "$dir/c$silos" > /dev/null
  trap - EXIT
}
run 1 1 1
run 3 3 all
rm -rf "$dir"
unset DOTNET_GCHeapHardLimit ACTORS_MIN_INSYNC_REPLICAS
if [[ "$kafka_bench" == 1 ]]; then
  dotnet run -c Release --project bench/Actors.Bench -- kafka --no-peers
fi

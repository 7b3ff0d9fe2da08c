#!/usr/bin/env bash
# start|stop Debian's Prometheus on 127.0.0.1:9090, data under .services/prometheus. It scrapes every second whatever
# targets the tests register: a file_sd_configs JSON file per test under .services/prometheus/targets (re-read every second).
set -euo pipefail
cd "$(dirname "$0")/../.."
port=9090
dir=$PWD/.services/prometheus
ready() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && curl -fs "http://127.0.0.1:$port/-/ready" >/dev/null; }

case "${1:-}" in
  start)
    command -v prometheus >/dev/null || scripts/install-packages.sh prometheus
    command -v curl >/dev/null || scripts/install-packages.sh curl
    # Another Prometheus on the port would not read this checkout's targets folder: say so instead of using it.
    if ready && [ ! -s "$dir/pid" ]; then
      echo "127.0.0.1:$port is taken by a Prometheus this script did not start (from another checkout?); stop that one first" >&2; exit 1
    fi
    if ! ready; then
      rm -rf "$dir"; mkdir -p "$dir/data" "$dir/targets"
      cat > "$dir/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: audioconverter
    metrics_path: /metrics
    file_sd_configs:
      - files: ['$dir/targets/*.json']
        refresh_interval: 1s
YAML
      setsid prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
        --web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=1d >"$dir/prometheus.log" 2>&1 < /dev/null &
      echo $! > "$dir/pid"
    fi
    deadline=$((SECONDS + 60))
    until ready; do
      [ $SECONDS -lt $deadline ] || { echo "Prometheus did not become ready on port $port; see $dir/prometheus.log" >&2; exit 1; }
      sleep 0.2
    done
    grep -qs '^export AC_TEST_PROMETHEUS=' .services/env || {
      echo "export AC_TEST_PROMETHEUS=http://127.0.0.1:$port" >> .services/env
      echo "export AC_TEST_PROMETHEUS_TARGETS=$dir/targets" >> .services/env
    }
    echo "Prometheus ready on 127.0.0.1:$port" ;;
  stop)
    if [ -s "$dir/pid" ]; then
      kill -- "-$(cat "$dir/pid")" 2>/dev/null || true
    fi
    rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

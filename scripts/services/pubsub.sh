#!/usr/bin/env bash
# start|stop the Google Cloud Pub/Sub emulator on 127.0.0.1:8085 with its data under .services/pubsub.
set -euo pipefail
cd "$(dirname "$0")/../.."
port=8085
dir=$PWD/.services/pubsub
emulator=/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator
ready() { curl -fs -o /dev/null "http://127.0.0.1:$port/v1/projects/ready-check/topics"; }

case "${1:-}" in
  start)
    [ -x "$emulator" ] || scripts/install-packages.sh google-cloud-cli-pubsub-emulator
    command -v java >/dev/null || scripts/install-packages.sh default-jre-headless
    if ! ready; then
      rm -rf "$dir"; mkdir -p "$dir"
      setsid "$emulator" --host=127.0.0.1 --port="$port" >"$dir/emulator.log" 2>&1 < /dev/null &
      echo $! > "$dir/pid"
    fi
    deadline=$((SECONDS + 90))
    until ready; do
      [ $SECONDS -lt $deadline ] || { echo "Pub/Sub emulator did not answer on port $port; see $dir/emulator.log" >&2; exit 1; }
      sleep 0.3
    done
    grep -qs '^export AC_TEST_PUBSUB_EMULATOR=' .services/env || echo "export AC_TEST_PUBSUB_EMULATOR=127.0.0.1:$port" >> .services/env
    echo "Pub/Sub emulator ready on 127.0.0.1:$port" ;;
  stop)
    if [ -s "$dir/pid" ]; then
      # The launcher script starts java in the same process group (setsid above): end the whole group.
      kill -- "-$(cat "$dir/pid")" 2>/dev/null || true
    fi
    rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

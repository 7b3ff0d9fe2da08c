#!/usr/bin/env bash
# start|stop every service the tests need. Each scripts/services/NAME.sh takes start|stop; a started
# service appends its connection settings (export lines) to .services/env, which test.sh sources.
# Services start in parallel (the Pub/Sub emulator alone takes about 10 s), then each is waited for.
set -uo pipefail
cd "$(dirname "$0")/.."
action=${1:?usage: services.sh start|stop}
mkdir -p .services/logs
case "$action" in
  start)
    : > .services/env
    declare -A pids=()
    for script in scripts/services/*.sh; do
      [ -e "$script" ] || continue
      name=$(basename "$script" .sh)
      echo "starting $name ..."
      "$script" start > ".services/logs/$name.log" 2>&1 &
      pids[$name]=$!
    done
    failed=0
    for name in "${!pids[@]}"; do
      if wait "${pids[$name]}"; then
        tail -n 1 ".services/logs/$name.log"
      else
        echo "could not start $name:" >&2; cat ".services/logs/$name.log" >&2; failed=1
      fi
    done
    exit $failed ;;
  stop)
    for script in scripts/services/*.sh; do
      [ -e "$script" ] || continue
      "$script" stop >/dev/null 2>&1 || true
    done ;;
  *) echo "usage: services.sh start|stop" >&2; exit 2 ;;
esac

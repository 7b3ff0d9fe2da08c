#!/usr/bin/env bash
# start|stop every service the tests need. Each scripts/services/NAME.sh takes start|stop; a started
# service appends its connection settings (export lines) to .services/env, which test.sh sources.
set -uo pipefail
cd "$(dirname "$0")/.."
action=${1:?usage: services.sh start|stop}
mkdir -p .services
case "$action" in
  start)
    : > .services/env
    for script in scripts/services/*.sh; do
      [ -e "$script" ] || continue
      echo "starting $(basename "$script" .sh) ..."
      "$script" start || { echo "could not start $(basename "$script" .sh)" >&2; exit 1; }
    done ;;
  stop)
    for script in scripts/services/*.sh; do
      [ -e "$script" ] || continue
      "$script" stop >/dev/null 2>&1 || true
    done ;;
  *) echo "usage: services.sh start|stop" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The long chaos soak: the same harness as the short run in ./test.sh (tests/AudioConverter.Tests/Soak), longer and
# with more faults. It needs the shared services (Pub/Sub emulator; s3rver's npm package under .services/node):
# it starts them when they are not running and stops only what it started. Prints faults by kind, tasks and
# violations, and keeps the reports in artifacts/soak/.
#
#   scripts/soak.sh                      # 1,000+ faults over 20 minutes on RabbitMQ, then 200 on Pub/Sub
#   scripts/soak.sh --seconds 600 --faults 500 --pubsub-seconds 120 --pubsub-faults 80 --seed 42
#   scripts/soak.sh --rabbitmq-only
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=1200 faults=1000 uploads=3000 pubsub_seconds=240 pubsub_faults=200 settle=300 seed="" filter="FullyQualifiedName~Soak.ChaosSoakTests"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --faults) faults=$2; shift 2 ;;
    --uploads) uploads=$2; shift 2 ;;
    --pubsub-seconds) pubsub_seconds=$2; shift 2 ;;
    --pubsub-faults) pubsub_faults=$2; shift 2 ;;
    --settle-seconds) settle=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --rabbitmq-only) filter="FullyQualifiedName~Soak.ChaosSoakTests.OnRabbitMq"; shift ;;
    --pubsub-only) filter="FullyQualifiedName~Soak.ChaosSoakTests.OnPubSub"; shift ;;
    *) echo "unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done

if [ ! -f .services/env ]; then
  trap 'scripts/services.sh stop' EXIT
  scripts/services.sh start || exit 1
fi
set -a; . .services/env; set +a

dotnet build tests/AudioConverter.Tests -c Release --nologo -v quiet || exit 1
mkdir -p artifacts/soak
rm -f artifacts/soak/*-report.txt
AC_SOAK_SECONDS=$seconds AC_SOAK_FAULTS=$faults AC_SOAK_UPLOADS=$uploads \
AC_SOAK_PUBSUB_SECONDS=$pubsub_seconds AC_SOAK_PUBSUB_FAULTS=$pubsub_faults \
AC_SOAK_SETTLE_SECONDS=$settle AC_SOAK_SEED=$seed \
  dotnet test tests/AudioConverter.Tests -c Release --no-build --nologo --filter "$filter" \
    --logger "console;verbosity=minimal" >artifacts/soak-test.log 2>&1
status=$?
for report in artifacts/soak/*-report.txt; do
  [ -f "$report" ] && { echo; cat "$report"; }
done
[ "$status" -eq 0 ] && echo "soak passed: no violations" || { grep -E "^\s+(Failed|Error Message)" -A3 artifacts/soak-test.log | head -40; echo "soak FAILED (full log: artifacts/soak-test.log)"; }
exit "$status"

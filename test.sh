#!/usr/bin/env bash
# Installs what the tests need, runs every test, and ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
scripts/install-packages.sh ffmpeg chromium || exit 1

# Services (PostgreSQL, RabbitMQ, Pub/Sub emulator, s3rver, SMTP sink, ...) are started here and always stopped.
trap 'scripts/services.sh stop' EXIT
scripts/services.sh start || { echo "0 passed, 1 failed"; exit 1; }
set -a; . .services/env; set +a

results=artifacts/test-results
rm -rf "$results"
mkdir -p "$results"

dotnet build AudioConverter.slnx -c Release --nologo -v quiet || { echo "0 passed, 1 failed"; exit 1; }
# The unit layer first (pure logic, seconds), then everything else but the chaos soak, which runs on its own below.
dotnet test tests/AudioConverter.Tests -c Release --no-build --nologo --filter "Layer=Unit" --logger "trx;LogFileName=unit.trx" --results-directory "$results/unit" >"$results/unit.log" 2>&1 \
  || { tail -n 60 "$results/unit.log"; echo "0 passed, 1 failed"; exit 1; }
dotnet test tests/AudioConverter.Tests -c Release --no-build --nologo --filter "Layer!=Unit&FullyQualifiedName!~AudioConverter.Tests.Soak." \
  --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" --results-directory "$results"
status=$?

counters=$(grep -o '<Counters [^>]*>' "$results"/*.trx 2>/dev/null | head -1)
passed=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
failed=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
passed=${passed:-0}
failed=${failed:-0}
unit=$(grep -o '<Counters [^>]*>' "$results"/unit/*.trx 2>/dev/null | head -1)
passed=$((passed + $(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$unit" | grep . || echo 0)))
# The short chaos soak (docs/reliability.md): its own stack of two APIs and two workers on private PostgreSQL, RabbitMQ
# and s3rver, 100 faults in about 100 s, then the invariant checker; the long run is scripts/soak.sh. Bounded by timeout.
timeout 600 env AC_SOAK_SECONDS=100 AC_SOAK_FAULTS=100 AC_SOAK_UPLOADS=250 AC_SOAK_SETTLE_SECONDS=90 \
  dotnet test tests/AudioConverter.Tests -c Release --no-build --nologo --filter "FullyQualifiedName~AudioConverter.Tests.Soak.ChaosSoakTests.OnRabbitMq" \
  --logger "trx;LogFileName=soak.trx" --results-directory "$results/soak" >"$results/soak.log" 2>&1
soak_status=$?
soak=$(grep -o '<Counters [^>]*>' "$results"/soak/*.trx 2>/dev/null | head -1)
soak_passed=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$soak" | grep . || echo 0)
soak_failed=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$soak" | grep . || echo 0)
if [ "$soak_status" -ne 0 ]; then
  status=1; [ "$soak_failed" -eq 0 ] && soak_failed=1
  cat artifacts/soak/rabbitmq-report.txt 2>/dev/null; tail -n 40 "$results/soak.log"
fi
passed=$((passed + soak_passed)); failed=$((failed + soak_failed))
# The capacity benchmark's smoke run (tiny counts, a server of its own) counts as one test, so the bench cannot rot.
if timeout 180 dotnet bench/AudioConverter.Bench/bin/Release/net10.0/AudioConverter.Bench.dll --smoke --out artifacts/bench-smoke >"$results/bench-smoke.log" 2>&1; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); status=1; tail -n 40 "$results/bench-smoke.log"
fi
# The OpenAPI document, linted with Redocly CLI (scripts/lint-openapi.sh), counts as one test.
if timeout 300 scripts/lint-openapi.sh artifacts/openapi/v1.json >"$results/openapi-lint.log" 2>&1; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); status=1; tail -n 40 "$results/openapi-lint.log"
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "${passed} passed, ${failed} failed"
[ "$status" -eq 0 ] && [ "$passed" -gt 0 ]

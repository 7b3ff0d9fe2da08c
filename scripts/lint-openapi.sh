#!/usr/bin/env bash
# Lints the served OpenAPI document with Redocly CLI: starts the built server (Release) on a free loopback port
# with a throw-away data folder, fetches /openapi/v1.json, stops the server, runs `redocly lint` with redocly.yaml.
# Exit 0 when the document passes. Usage: scripts/lint-openapi.sh [output.json]
set -euo pipefail
cd "$(dirname "$0")/.."
version=2.77.0
bin=$PWD/.services/node/node_modules/.bin/redocly
command -v npm >/dev/null || scripts/install-packages.sh nodejs npm
if [ ! -x "$bin" ] || ! grep -qs "\"version\": \"$version\"" .services/node/node_modules/@redocly/cli/package.json; then
  mkdir -p .services && flock .services/npm.lock npm install --prefix .services/node --no-audit --no-fund --loglevel=error "@redocly/cli@$version" >/dev/null
fi

dll=src/AudioConverter.Server/bin/Release/net10.0/AudioConverter.Server.dll
[ -f "$dll" ] || { echo "build the server first: dotnet build -c Release" >&2; exit 1; }
out=${1:-artifacts/openapi/v1.json}
mkdir -p "$(dirname "$out")"
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd src/AudioConverter.Server && exec env Urls="http://127.0.0.1:$port" Role=api Queue__InProcessWithoutWorker=true \
  Database__ConnectionString="Data Source=$data/app.db" Storage__LocalPath="$data/blobs" Auth__SigningKeyPath="$data/jwt.key" \
  Worker__TempPath="$data/tmp" dotnet "$PWD/bin/Release/net10.0/AudioConverter.Server.dll") >"$data/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
deadline=$((SECONDS + 60))
until curl -fsS "http://127.0.0.1:$port/openapi/v1.json" -o "$out" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || { echo "the server did not serve /openapi/v1.json; its log:" >&2; cat "$data/server.log" >&2; exit 1; }
  kill -0 "$pid" 2>/dev/null || { echo "the server exited; its log:" >&2; cat "$data/server.log" >&2; exit 1; }
  sleep 0.3
done
"$bin" lint --config scripts/redocly.yaml "$out"

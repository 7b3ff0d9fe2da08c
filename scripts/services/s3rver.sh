#!/usr/bin/env bash
# start|stop s3rver (a small S3-compatible server, credentials S3RVER/S3RVER) on 127.0.0.1:4568, data under .services/s3rver.
set -euo pipefail
cd "$(dirname "$0")/../.."
port=4568
version=3.7.1
dir=$PWD/.services/s3rver
bin=$PWD/.services/node/node_modules/.bin/s3rver
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

case "${1:-}" in
  start)
    command -v npm >/dev/null || scripts/install-packages.sh nodejs npm
    if [ ! -x "$bin" ] || ! grep -qs "\"version\": \"$version\"" .services/node/node_modules/s3rver/package.json; then
      mkdir -p .services && flock .services/npm.lock npm install --prefix .services/node --no-audit --no-fund --loglevel=error "s3rver@$version" >/dev/null
    fi
    if ! listening; then
      rm -rf "$dir"; mkdir -p "$dir/data"
      setsid "$bin" -d "$dir/data" -a 127.0.0.1 -p "$port" -s >"$dir/s3rver.log" 2>&1 < /dev/null &
      echo $! > "$dir/pid"
    fi
    deadline=$((SECONDS + 30))
    until listening; do
      [ $SECONDS -lt $deadline ] || { echo "s3rver did not listen on port $port; see $dir/s3rver.log" >&2; exit 1; }
      sleep 0.2
    done
    grep -qs '^export AC_TEST_S3_ENDPOINT=' .services/env || echo "export AC_TEST_S3_ENDPOINT=http://127.0.0.1:$port" >> .services/env
    echo "s3rver ready on 127.0.0.1:$port" ;;
  stop)
    if [ -s "$dir/pid" ]; then
      kill -- "-$(cat "$dir/pid")" 2>/dev/null || true
    fi
    rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Installs ffmpeg if missing, builds in Release and serves API and worker on http://127.0.0.1:8080
# with the embedded backends (SQLite, a local folder, an in-process queue). Data goes under ./data.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-packages.sh ffmpeg
dotnet publish src/AudioConverter.Server -c Release -o artifacts/server --nologo -v quiet
mkdir -p data
echo "AudioConverter: http://127.0.0.1:${PORT:-8080} (data in $PWD/data; API docs at /docs)"
exec dotnet artifacts/server/AudioConverter.Server.dll --contentRoot "$PWD/artifacts/server" --DataRoot "$PWD" "$@"

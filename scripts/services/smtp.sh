#!/usr/bin/env bash
# start|stop an SMTP sink (npm smtp-server) on 127.0.0.1:2525 that accepts every message and saves it under .services/smtp/mail
# (one .eml per message, its envelope recipients in a first X-Envelope-To header).
set -euo pipefail
cd "$(dirname "$0")/../.."
port=2525
version=3.21.6
dir=$PWD/.services/smtp
modules=$PWD/.services/node/node_modules
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

case "${1:-}" in
  start)
    command -v npm >/dev/null || scripts/install-packages.sh nodejs npm
    if ! grep -qs "\"version\": \"$version\"" "$modules/smtp-server/package.json"; then
      mkdir -p .services && flock .services/npm.lock npm install --prefix .services/node --no-audit --no-fund --loglevel=error "smtp-server@$version" >/dev/null
    fi
    if ! listening; then
      rm -rf "$dir"; mkdir -p "$dir/mail"
      cat > "$dir/sink.js" <<'JS'
const { SMTPServer } = require("smtp-server");
const fs = require("fs");
const path = require("path");
const [port, folder] = process.argv.slice(2);
let count = 0;
new SMTPServer({
  authOptional: true, disabledCommands: ["STARTTLS"], logger: false,
  onAuth(auth, session, callback) { callback(null, { user: auth.username }); },
  onData(stream, session, callback) {
    // The envelope's recipients go first as a header (a Bcc never shows in the message itself); the file appears
    // under its .eml name only once complete, so a reader never sees half a message.
    const file = path.join(folder, `${Date.now()}-${process.pid}-${++count}.eml`);
    const out = fs.createWriteStream(file + ".part");
    out.write(`X-Envelope-To: ${session.envelope.rcptTo.map((r) => r.address).join(", ")}\r\n`);
    stream.pipe(out).on("finish", () => fs.rename(file + ".part", file, (error) => callback(error)));
  },
}).listen(Number(port), "127.0.0.1");
JS
      NODE_PATH=$modules setsid node "$dir/sink.js" "$port" "$dir/mail" >"$dir/smtp.log" 2>&1 < /dev/null &
      echo $! > "$dir/pid"
    fi
    deadline=$((SECONDS + 30))
    until listening; do
      [ $SECONDS -lt $deadline ] || { echo "SMTP sink did not listen on port $port; see $dir/smtp.log" >&2; exit 1; }
      sleep 0.2
    done
    grep -qs '^export AC_TEST_SMTP=' .services/env || { echo "export AC_TEST_SMTP=127.0.0.1:$port"; echo "export AC_TEST_SMTP_MAILDIR=$dir/mail"; } >> .services/env
    echo "SMTP sink ready on 127.0.0.1:$port" ;;
  stop)
    if [ -s "$dir/pid" ]; then
      kill -- "-$(cat "$dir/pid")" 2>/dev/null || true
    fi
    rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Runs the two JMeter plans headless (JMeter 2.13, Debian's `jmeter` package) and prints one summary table per plan.
#   bench/jmeter/run.sh [--url http://HOST:PORT] [--users 30] [--seconds 60] [--files 60] [--threads 8] [--out DIR]
# Without --url it starts the Release server itself (SQLite, local disk, in-process queue, a temp data folder,
# signups not rate-limited) and stops it at the end. A server given by --url needs RateLimits__AuthPermitsPerMinute
# set high, or most signups of scenario 1 get 429.
set -euo pipefail
cd "$(dirname "$0")/../.."
url="" users=30 seconds=60 files=60 threads=8 out="bench-results/jmeter-$(date -u +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
  case "$1" in
    --url) url="$2"; shift 2 ;;
    --users) users="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --files) files="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v jmeter >/dev/null || scripts/install-packages.sh jmeter
command -v ffmpeg >/dev/null || scripts/install-packages.sh ffmpeg
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The same input as the bench: 180 s of sines and pink noise with a tremolo, 128 kbps stereo MP3 (about 2.9 MB).
mp3="$out/signal.mp3"
ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "sine=frequency=440:duration=180" -f lavfi -i "anoisesrc=color=pink:duration=180:amplitude=0.1" \
  -filter_complex "[0][1]amix=inputs=2,tremolo=f=3,aformat=channel_layouts=stereo" -ar 44100 -b:a 128k "$mp3"

server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  [ -n "${data:-}" ] && rm -rf "$data"
}
trap cleanup EXIT
if [ -z "$url" ]; then
  dll=src/AudioConverter.Server/bin/Release/net10.0/AudioConverter.Server.dll
  [ -f "$dll" ] || dotnet build src/AudioConverter.Server -c Release --nologo -v quiet
  data=$(mktemp -d /tmp/audioconverter-jmeter-XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  url="http://127.0.0.1:$port"
  (cd "$(dirname "$dll")" && ASPNETCORE_ENVIRONMENT=Production Urls="$url" Database__ConnectionString="Data Source=$data/db.sqlite" \
    Storage__LocalPath="$data/blobs" Auth__SigningKeyPath="$data/jwt.key" Worker__TempPath="$data/work" \
    RateLimits__AuthPermitsPerMinute=1000000 exec dotnet AudioConverter.Server.dll) >"$out/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do curl -fs "$url/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "$url/health/ready" >/dev/null || { echo "the server did not start; see $out/server.log" >&2; exit 1; }
fi
host=$(sed -E 's#^https?://([^:/]+).*#\1#' <<<"$url")
port=$(sed -E 's#^https?://[^:/]+:?([0-9]*).*#\1#' <<<"$url"); port=${port:-80}
run=$(date +%s)

# label, samples, mean, median, p90, p95, p99, max (ms), error %, per second over the plan's span: from the CSV results.
summary() {
  python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
labels = {}
for r in rows:
    labels.setdefault(r["label"], []).append(r)
print(f'{"label":<24}{"samples":>8}{"avg":>9}{"median":>9}{"p90":>9}{"p95":>9}{"p99":>9}{"max":>9}{"error %":>9}{"per s":>9}')
for label, rs in labels.items():
    e = sorted(int(r["elapsed"]) for r in rs)
    pct = lambda p: e[min(len(e) - 1, int(round(p / 100 * len(e) + 0.5)) - 1)]
    start = min(int(r["timeStamp"]) for r in rs); end = max(int(r["timeStamp"]) + int(r["elapsed"]) for r in rs)
    errors = sum(r["success"] != "true" for r in rs)
    print(f'{label:<24}{len(e):>8}{sum(e)/len(e):>9.1f}{pct(50):>9}{pct(90):>9}{pct(95):>9}{pct(99):>9}{e[-1]:>9}{100*errors/len(e):>9.2f}{len(e)/max(0.001,(end-start)/1000):>9.1f}')
uploads = [r for r in rows if r["label"].startswith("upload")]
polls = [r for r in rows if r["label"].startswith("poll")]
if uploads and polls:
    start = min(int(r["timeStamp"]) for r in uploads); end = max(int(r["timeStamp"]) + int(r["elapsed"]) for r in polls)
    print(f'burst: {len(uploads)} files from the first upload to the last poll that found none waiting: {(end-start)/1000:.2f} s = {len(uploads)*60000/(end-start):.1f} files/min')
PY
}

# Debian's JMeter 2.13 cannot read any plan with the XStream it ships (see Jmeter213.java): start it through the shim.
classes="$out/classes"
javac -d "$classes" -cp /usr/share/jmeter/bin/ApacheJMeter.jar bench/jmeter/Jmeter213.java
jmeter() { java -Djmeter.home=/usr/share/jmeter -cp "/usr/share/jmeter/bin/ApacheJMeter.jar:$classes" Jmeter213 "$@"; }

props="-Jhost=$host -Jport=$port -Jfile=$mp3 -Jrun=$run -Jjmeter.save.saveservice.output_format=csv -Jjmeter.save.saveservice.print_field_names=true"
echo "== scenario 1, web layer: $users users for $seconds s against $url =="
rm -f "$out/web.jtl" "$out/burst.jtl"
jmeter -n -t bench/jmeter/web.jmx -l "$out/web.jtl" -j "$out/web.log" $props -Jusers="$users" -Jseconds="$seconds" >"$out/web.out"
summary "$out/web.jtl" | tee "$out/web-summary.txt"
echo
echo "== scenario 2, burst of $files files by $threads threads against $url =="
jmeter -n -t bench/jmeter/burst.jmx -l "$out/burst.jtl" -j "$out/burst.log" $props -Jfiles="$files" -Jthreads="$threads" >"$out/burst.out"
summary "$out/burst.jtl" | tee "$out/burst-summary.txt"
echo "results in $out"

#!/usr/bin/env bash
# CPU-seconds (user + system, from getrusage via /usr/bin/time) of one conversion of the bench's 180 s MP3 to every
# target format, with the worker's ffmpeg arguments (one thread, as Media:ThreadsPerConversion defaults). CPU time,
# unlike wall time, hardly depends on what else the shared machine runs. docs/capacity.md and docs/sizing.md use it.
# Usage: bench/cpu-per-target.sh [runs per target, default 5]
set -euo pipefail
runs=${1:-5}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
in=$work/signal-180s.mp3
ffmpeg -v error -filter_complex "aevalsrc=exprs='0.25*sin(2*PI*220*t)+0.15*sin(2*PI*331*t)+0.1*sin(2*PI*1870*t)|0.25*sin(2*PI*277*t)+0.15*sin(2*PI*415*t)+0.1*sin(2*PI*2490*t)':s=44100:d=180[s];anoisesrc=color=pink:amplitude=0.2:sample_rate=44100:duration=180,pan=stereo|c0=c0|c1=c0[n];[s][n]amix=inputs=2:normalize=0,tremolo=f=4:d=0.6[out]" \
  -map "[out]" -c:a libmp3lame -b:a 128k -ar 44100 -ac 2 "$in"
echo "input: 180 s MP3, $(stat -c %s "$in") bytes; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| target | CPU s per conversion (median of $runs) | min | max | output bytes |"
echo "|---|---|---|---|---|"
for spec in "mp3|mp3|-c:a libmp3lame -q:a 2" "wav|wav|-c:a pcm_s16le" "ogg|ogg|-c:a libvorbis -q:a 4" "m4a|ipod|-c:a aac -b:a 192k -movflags +faststart" \
            "aac|adts|-c:a aac -b:a 192k" "flac|flac|-c:a flac" "opus|opus|-c:a libopus -b:a 128k" "wma|asf|-c:a wmav2 -b:a 192k"; do
  IFS='|' read -r ext muxer codec <<<"$spec"
  times=()
  for _ in $(seq "$runs"); do
    # shellcheck disable=SC2086
    /usr/bin/time -o "$work/time" -f "%U %S" ffmpeg -nostdin -hide_banner -nostats -loglevel error -y -protocol_whitelist file -i "file:$in" \
      -map 0:a:0 -vn -sn -dn -threads 1 $codec -f "$muxer" "file:$work/out.$ext"
    t=$(awk '{printf "%.2f", $1 + $2}' "$work/time")
    times+=("$t")
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -g)
  median=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
  echo "| $ext | $median | $(echo "$sorted" | head -1) | $(echo "$sorted" | tail -1) | $(stat -c %s "$work/out.$ext") |"
done

#!/bin/sh
# Media paths (issue 9): the copy path against a re-encode, and the two loudnorm passes by hand, with the same
# ffmpeg arguments the converter uses (Infrastructure/Media/FfmpegArguments.cs). Prints files per minute.
# Usage: bench/media-paths.sh [files] [seconds]   (defaults: 10 files of 60 s)
set -eu
FILES=${1:-10}
SECONDS_EACH=${2:-60}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
ffmpeg -v error -y -f lavfi -i "anoisesrc=color=pink:amplitude=0.3:sample_rate=44100:duration=$SECONDS_EACH" -ac 2 "$DIR/in.wav"
ffmpeg -v error -y -i "$DIR/in.wav" -c:a aac -b:a 192k "$DIR/in.m4a"
now() { date +%s.%N; }
rate() { awk -v n="$1" -v t="$2" -v label="$3" 'BEGIN { printf "%s: %.1f files/min (%.3f s each)\n", label, n * 60 / t, t / n }'; }
common="-nostdin -hide_banner -nostats -loglevel error -y -threads 1"
t0=$(now); i=0; while [ $i -lt "$FILES" ]; do ffmpeg $common -i "$DIR/in.m4a" -map 0:a:0 -c:a copy -f adts "$DIR/o.aac"; i=$((i+1)); done; t1=$(now)
copy=$(echo "$t1 $t0" | awk '{print $1-$2}'); rate "$FILES" "$copy" "m4a -> aac, copied"
t0=$(now); i=0; while [ $i -lt "$FILES" ]; do ffmpeg $common -i "$DIR/in.m4a" -map 0:a:0 -c:a aac -b:a 192k -f adts "$DIR/o.aac"; i=$((i+1)); done; t1=$(now)
enc=$(echo "$t1 $t0" | awk '{print $1-$2}'); rate "$FILES" "$enc" "m4a -> aac, re-encoded"
echo "$enc $copy" | awk '{ printf "copy is %.0fx faster than a re-encode\n", $1 / $2 }'
t0=$(now); i=0; while [ $i -lt "$FILES" ]; do
  ffmpeg -nostdin -hide_banner -nostats -y -threads 1 -i "$DIR/in.wav" -af loudnorm=I=-16:TP=-1.5:LRA=7:print_format=json -f null - 2> "$DIR/pass1.txt"
  m=$(sed -n '/^{/,/^}/p' "$DIR/pass1.txt" | tr -d ' \t"\n,' )
  I=$(echo "$m" | sed 's/.*input_i:\([-0-9.]*\).*/\1/'); TP=$(echo "$m" | sed 's/.*input_tp:\([-0-9.]*\).*/\1/')
  LRA=$(echo "$m" | sed 's/.*input_lra:\([-0-9.]*\).*/\1/'); TH=$(echo "$m" | sed 's/.*input_thresh:\([-0-9.]*\).*/\1/'); OFF=$(echo "$m" | sed 's/.*target_offset:\([-0-9.]*\).*/\1/')
  ffmpeg $common -i "$DIR/in.wav" -af "loudnorm=I=-16:TP=-1.5:LRA=7:measured_I=$I:measured_TP=$TP:measured_LRA=$LRA:measured_thresh=$TH:offset=$OFF:linear=true" -ar 44100 -c:a libmp3lame -q:a 2 "$DIR/o.mp3"
  i=$((i+1)); done; t1=$(now)
rate "$FILES" "$(echo "$t1 $t0" | awk '{print $1-$2}')" "wav -> mp3 normalised, two passes by hand"
t0=$(now); i=0; while [ $i -lt "$FILES" ]; do ffmpeg $common -i "$DIR/in.wav" -ar 44100 -c:a libmp3lame -q:a 2 "$DIR/o.mp3"; i=$((i+1)); done; t1=$(now)
rate "$FILES" "$(echo "$t1 $t0" | awk '{print $1-$2}')" "wav -> mp3 without normalisation"

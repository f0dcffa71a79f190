#!/bin/sh
# test-stream.sh — `vitlens-cli stream` as a user runs it: the live test pattern and a video
# file through the capture → inference path, JSON lines and the summary, looping, --frames,
# and the failures (no camera, not a video, a missing decoder) with exit status 1. Needs jq.
# The videos are written by test-camera --make-video (gst-launch-1.0 may not be installed).
# Usage: test-stream.sh CLI TEST_CAMERA FIXTURES_DIR
set -u
CLI=$1
MAKE=$2
FX=$3
MODEL="$FX/models/tiny-p16/model.safetensors"
. "$(dirname "$0")/check-common.sh"
# The JSON lines of a run: every line parses, the results are well formed, frame numbers grow,
# and the last line is the summary.
results_ok='
  (.[:-1] | length) >= 1
  and all(.[:-1][]; (.frame | type) == "number" and (.pts_ms | type) == "number"
          and (.top | length) == 5 and all(.top[]; (.index | type) == "number" and (.label | type) == "string" and .prob >= 0 and .prob <= 1)
          and .forward_ms > 0 and .latency_ms > 0)
  and ([.[:-1][].frame] | . == (sort | unique))
  and (.[-1].summary | .inferred >= 1 and .inferred == ($lines | tonumber) and .inference_fps > 0 and .source_fps > 0
       and .dropped >= 0 and .latency_ms_median > 0 and .forward_ms_median > 0
       and .frames == .inferred + .dropped + .failed)'

# 1. the live test pattern, 640x480 at 30 fps, 60 frames
"$CLI" stream --model "$MODEL" --test-pattern --size 640x480 --fps 30 --frames 60 --json >"$TMP/tp.json" 2>"$TMP/err"
status=$?
lines=$(($(wc -l <"$TMP/tp.json") - 1))
[ $status -eq 0 ] && jq -e -s --arg lines "$lines" "$results_ok and .[-1].summary.frames == 60 and .[-1].summary.source_fps > 20 and .[-1].summary.source_fps < 40" "$TMP/tp.json" >/dev/null
check "/stream/test-pattern/json ($(tail -1 "$TMP/tp.json")) $(cat "$TMP/err")" $?

# 2. a video file the test writes: 60 JPEG frames in an AVI, to its end (EOS: exit 0)
"$MAKE" --make-video "$TMP/ball.avi" 60 320 240
check "/stream/make-video" $?
"$CLI" stream --model "$MODEL" --video "$TMP/ball.avi" --json >"$TMP/file.json" 2>"$TMP/err"
status=$?
lines=$(($(wc -l <"$TMP/file.json") - 1))
[ $status -eq 0 ] && jq -e -s --arg lines "$lines" "$results_ok and .[-1].summary.frames == 60 and .[-1].summary.source == \"ball.avi\"" "$TMP/file.json" >/dev/null
check "/stream/video/eos ($(tail -1 "$TMP/file.json")) $(cat "$TMP/err")" $?

# 3. looping the video, stopped by --frames
"$CLI" stream --model "$MODEL" --video "$TMP/ball.avi" --loop --frames 75 --json >"$TMP/loop.json" 2>"$TMP/err"
status=$?
[ $status -eq 0 ] && jq -e -s '.[-1].summary.frames == 75 and .[-1].summary.inferred >= 1 and any(.[:-1][]; .frame > 60 and .pts_ms < 1000)' "$TMP/loop.json" >/dev/null
check "/stream/video/loop ($(tail -1 "$TMP/loop.json")) $(cat "$TMP/err")" $?

# 4. human output and the int8 variant
"$CLI" stream --model "$MODEL" --variant int8 --threads 1 --test-pattern --size 320x240 --frames 15 >"$TMP/human.txt" 2>"$TMP/err"
status=$?
[ $status -eq 0 ] && grep -q '^frame ' "$TMP/human.txt" && tail -1 "$TMP/human.txt" | grep -q '^15 source frames at .* (int8)$'
check "/stream/human-int8 ($(tail -1 "$TMP/human.txt"))" $?

# 4b. a pipeline that ends in caps, as typed after gst-launch-1.0
"$CLI" stream --model "$MODEL" --pipeline "videotestsrc ! video/x-raw,width=120,height=90,framerate=30/1" --frames 5 --json >"$TMP/caps.json" 2>"$TMP/err"
status=$?
[ $status -eq 0 ] && jq -e -s '.[-1].summary.frames == 5' "$TMP/caps.json" >/dev/null
check "/stream/pipeline-ending-in-caps ($(tail -1 "$TMP/caps.json")) $(cat "$TMP/err")" $?

# 5. no camera: a device that is not there, and a camera name that is not there
"$CLI" stream --model "$MODEL" --pipeline "v4l2src device=/dev/video99" --frames 5 >/dev/null 2>"$TMP/err"
status=$?
[ $status -eq 1 ] && grep -q "/dev/video99" "$TMP/err" && grep -qiE "no camera|not found" "$TMP/err"
check "/stream/error/no-device ($(cat "$TMP/err"))" $?
"$CLI" stream --model "$MODEL" --camera "ViT Lens Imaginary Camera" >/dev/null 2>"$TMP/err"
status=$?
[ $status -eq 1 ] && grep -q "no camera named 'ViT Lens Imaginary Camera'" "$TMP/err"
check "/stream/error/no-such-camera ($(cat "$TMP/err"))" $?

# 6. not a video: text, a truncated AVI, a file that does not exist
printf 'hello, this is not a video\n' >"$TMP/notes.avi"
head -c 100 "$TMP/ball.avi" >"$TMP/cut.avi"
for f in notes.avi cut.avi; do
    "$CLI" stream --model "$MODEL" --video "$TMP/$f" --json >"$TMP/out" 2>"$TMP/err"
    status=$?
    [ $status -eq 1 ] && grep -q "“$f” is not a video" "$TMP/err" && [ ! -s "$TMP/out" ]
    check "/stream/error/not-a-video/$f ($(cat "$TMP/err"))" $?
done
"$CLI" stream --model "$MODEL" --video "$TMP/nowhere.avi" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "nowhere.avi: no such file" "$TMP/err"
check "/stream/error/no-such-file ($(cat "$TMP/err"))" $?

# 7. a missing decoder: the AVI's fourcc rewritten to H.264 (no H.264 decoder in a plain
#    Debian GStreamer; with one, the JPEG data fails to decode as H.264 instead)
LC_ALL=C sed 's/MJPG/H264/g' "$TMP/ball.avi" >"$TMP/h264.avi"
"$CLI" stream --model "$MODEL" --video "$TMP/h264.avi" >/dev/null 2>"$TMP/err"
status=$?
[ $status -eq 1 ] && grep -qE "plugin is missing \(.*H\.264.*\)|is not a video" "$TMP/err"
check "/stream/error/missing-decoder ($(cat "$TMP/err"))" $?

# 8. bad options
"$CLI" stream --model "$MODEL" >/dev/null 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "give one source" "$TMP/err"
check "/stream/error/no-source" $?
"$CLI" stream --model "$MODEL" --test-pattern --size 12 >/dev/null 2>"$TMP/err"
[ $? -eq 2 ] && grep -q -- "--size" "$TMP/err"
check "/stream/error/bad-size" $?

check_summary

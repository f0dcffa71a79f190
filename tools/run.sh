#!/bin/sh
# tools/run.sh — the README's first command: install what is missing, build, and run ViT Lens on
# the embedded model with a sample image. With a display and the GTK app built, the app opens;
# otherwise (headless) vitlens-cli classifies the sample.
#   tools/run.sh [IMAGE...]
set -eu
cd "$(dirname "$0")/.."
tools/deps.sh

BUILD=${BUILD:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD"
ninja -C "$BUILD"

if [ $# -eq 0 ]; then
    set -- resources/samples/sneaker.png
fi
if [ -x "$BUILD/app/vitlens" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
    exec "$BUILD/app/vitlens" "$@"
fi
exec "$BUILD/app/cli/vitlens-cli" classify "$@"

#!/bin/sh
# tools/deps.sh — install the Debian 12 packages ViT Lens needs, only those missing.
# Used by the README's two commands and by CI. Runs apt-get as root, or through sudo.
set -eu

PACKAGES="
gcc libc6-dev pkg-config meson ninja-build
libopenblas-dev libpng-dev libjpeg-dev zlib1g-dev
libgtk-4-dev libglib2.0-dev-bin gettext desktop-file-utils appstream
libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
libsoup-3.0-dev glib-networking
gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav
xvfb xauth jq dataset-fashion-mnist
fonts-noto-cjk
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "vitlens: installing Debian packages:$missing" >&2
if [ "$(id -u)" = 0 ]; then
    SUDO=""
else
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing

#!/bin/sh
# check-no-circles.sh PYTHON FILE_CYCLES_PY OBJECT_DIR: run tools/file_cycles.py on every object
# in OBJECT_DIR (a static library's private directory, e.g. build/engine/libvit.a.p); fails, and
# prints the circle, when two or more of its source files call each other in a circle.
set -eu
python=$1
script=$2
dir=$3
set -- "$dir"/*.o
if [ ! -e "$1" ]; then
    echo "check-no-circles: no objects in $dir" >&2
    exit 1
fi
exec "$python" "$script" "$@"

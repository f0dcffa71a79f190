#!/bin/sh
# check-no-circles.sh PYTHON FILE_CYCLES_PY [--allow A.c,B.c]... OBJECT_DIR...: run
# tools/file_cycles.py on every object in the OBJECT_DIRs (static libraries' private directories,
# e.g. build/engine/libvit.a.p); fails, and prints the circle, when two or more of their source
# files call each other in a circle (other than a group named with --allow).
set -eu
python=$1
script=$2
shift 2
args=
objects=
while [ $# -gt 0 ]; do
    if [ "$1" = --allow ]; then
        args="$args --allow $2"
        shift 2
        continue
    fi
    for o in "$1"/*.o; do
        if [ ! -e "$o" ]; then
            echo "check-no-circles: no objects in $1" >&2
            exit 1
        fi
        objects="$objects $o"
    done
    shift
done
# shellcheck disable=SC2086
exec "$python" "$script" $args $objects

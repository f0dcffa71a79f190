#!/bin/sh
# xvfb-run-test.sh PROGRAM [ARGS...] — run a display test under its own Xvfb.
#
# Xvfb picks a free display number itself (-displayfd), so parallel `meson test` runs never
# race for one as `xvfb-run -a` can. With a $DISPLAY already set the program runs on it.
# Exit 77 (meson: SKIP) when Xvfb is not installed.
prog=$1
shift
case "$prog" in
  */*) ;;
  *) [ -x "$prog" ] && prog="./$prog" ;; # meson passes build targets without ./
esac
set -- "$prog" "$@"

export GTK_A11Y="${GTK_A11Y:-none}"                   # else a fatal "Unable to acquire session bus"
export GSETTINGS_BACKEND="${GSETTINGS_BACKEND:-memory}" # else dconf warnings without D-Bus
export GSK_RENDERER="${GSK_RENDERER:-cairo}"          # cheaper than llvmpipe GL in CI

if [ -n "$DISPLAY" ]; then
  exec "$@"
fi
if ! command -v Xvfb >/dev/null 2>&1; then
  echo "Xvfb is not installed: skipping" >&2
  exit 77
fi

dfile=$(mktemp)
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$dfile" 2>/dev/null &
xpid=$!
i=0
while [ ! -s "$dfile" ] && [ $i -lt 200 ]; do
  sleep 0.05
  i=$((i + 1))
done
if [ ! -s "$dfile" ]; then
  echo "Xvfb did not start" >&2
  kill $xpid 2>/dev/null
  rm -f "$dfile"
  exit 1
fi
DISPLAY=":$(cat "$dfile")"
export DISPLAY
rm -f "$dfile"

"$@"
rc=$?
kill $xpid 2>/dev/null
wait $xpid 2>/dev/null
exit $rc

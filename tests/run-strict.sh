#!/bin/sh
# run-strict.sh COMMAND [ARGS...] — fail when COMMAND fails OR prints anything
# (desktop-file-validate exits 0 on errors it calls "will be fatal in the future").
out=$("$@" 2>&1)
rc=$?
[ -n "$out" ] && printf '%s\n' "$out"
[ $rc -eq 0 ] && [ -z "$out" ]

#!/bin/sh
# check-potfiles.sh SOURCE_ROOT — every file with translatable strings is in po/POTFILES.in,
# every entry there exists, and the list is sorted.
cd "$1" || exit 1
fail=0
listed=$(grep -v '^#' po/POTFILES.in | grep -v '^$')

for f in $listed; do
  [ -f "$f" ] || { echo "po/POTFILES.in lists $f, which does not exist"; fail=1; }
done
if ! printf '%s\n' "$listed" | LC_ALL=C sort -c 2>/dev/null; then
  echo "po/POTFILES.in is not sorted (LC_ALL=C sort)"
  fail=1
fi

# _("…"), N_("…"), C_(…), ngettext-style calls in C; translatable="yes" in .ui; and the data
# files whose strings gettext extracts.
found=$( { grep -rlE '(^|[^A-Za-z0-9_])(N?C?_|g_dngettext|g_dpgettext2)\(' --include='*.c' --include='*.h' app;
           grep -rl 'translatable="yes"' --include='*.ui' ui app resources 2>/dev/null;
           ls resources/*.desktop.in resources/*.metainfo.xml.in 2>/dev/null;
           grep -l 'gettext-domain' resources/*.gschema.xml 2>/dev/null; } | LC_ALL=C sort -u)

for f in $found; do
  if ! printf '%s\n' "$listed" | grep -qxF "$f"; then
    echo "$f has translatable strings but is not in po/POTFILES.in"
    fail=1
  fi
done

[ $fail -eq 0 ] && echo "po/POTFILES.in: $(printf '%s\n' "$listed" | wc -l) files, complete and sorted"
exit $fail

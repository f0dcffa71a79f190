#!/bin/sh
# check-translation.sh SOURCE_ROOT LANG — po/LANG.po is valid (msgfmt --check) and complete
# against the current sources: the strings are extracted afresh (as `ninja vitlens-pot` does),
# merged into a copy of the .po, and any untranslated or fuzzy string fails the test.
root=$1
lang=$2
po="$root/po/$lang.po"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

msgfmt --check -o "$tmp/$lang.mo" "$po" || exit 1

# The keywords and flags of meson's i18n.gettext(preset: 'glib').
(cd "$root" && xgettext --package-name=vitlens --from-code=UTF-8 --add-comments \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 --keyword=g_dcgettext:2 \
  --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
  -f po/POTFILES.in -o "$tmp/vitlens.pot") || exit 1

msgmerge --quiet --no-fuzzy-matching "$po" "$tmp/vitlens.pot" -o "$tmp/merged.po" || exit 1
stats=$(msgfmt --check --statistics -o /dev/null "$tmp/merged.po" 2>&1) || { echo "$stats"; exit 1; }
echo "$lang against the current sources: $stats"
case "$stats" in
  *untranslated* | *fuzzy*)
    echo "po/$lang.po is incomplete: run 'ninja -C BUILD vitlens-update-po' and translate"
    msgattrib --untranslated --no-obsolete "$tmp/merged.po" | grep '^msgid' | head -20
    exit 1 ;;
esac
exit 0

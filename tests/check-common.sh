# check-common.sh — sourced by the shell tests: a scratch folder removed on exit, and check(),
# which counts and prints one result. End a test with `check_summary`.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
checks=0
check() { # check NAME CONDITION-EXIT-STATUS
    checks=$((checks + 1))
    if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
check_summary() { # the exit status of the test: 0 when every check passed
    echo "$((checks - fails)) passed, $fails failed"
    [ $fails -eq 0 ]
}

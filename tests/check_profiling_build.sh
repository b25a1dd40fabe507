#!/usr/bin/env bash
# The CPU sampler is in the build exactly when S3DLIO_PROFILING is ON:
#   ON:  the library defines the sampler and its handler and uses libunwind, libdw and a POSIX
#        timer; bench profile-selftest samples, names its functions and draws a well-formed SVG.
#   OFF: none of that code or those imports are in the library or the CLI, and --profile-cpu
#        and profile-selftest say so in one line with exit 2 / 1.
#   check_profiling_build.sh ON|OFF LIBRARY CLI
set -uo pipefail
MODE=$1 LIB=$2 CLI=$3
export AWS_EC2_METADATA_DISABLED=true
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fails=0
ok() { :; }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# defined symbols (static ones too: the library keeps its symbol table) and imports
nm "$LIB" >"$WORK/syms" 2>/dev/null || nm -D "$LIB" >"$WORK/syms"
nm -D --undefined-only "$LIB" "$CLI" >"$WORK/imports" 2>/dev/null
has_sym() { grep -Eq " [tTdDbB] $1\$" "$WORK/syms"; }
imports() { grep -Eq "$1" "$WORK/imports"; }

if [ "$MODE" = ON ]; then
  has_sym s3dlio_prof_start && ok || bad "ON: no s3dlio_prof_start in $LIB"
  has_sym on_sigprof && ok || bad "ON: no SIGPROF handler (on_sigprof) in $LIB"
  imports 'init_local2' && ok || bad "ON: libunwind's unw_init_local2 not imported"
  imports 'timer_create' && ok || bad "ON: timer_create not imported"
  imports 'dwfl_' && ok || bad "ON: libdw (dwfl_*) not imported"
  out=$WORK/profiles/self.svg
  "$CLI" bench profile-selftest --cpu-time 500ms --profile-hz 1000 -o "$out" >"$WORK/st.out" 2>&1 &&
    ok || bad "ON: profile-selftest failed: $(cat "$WORK/st.out")"
  grep -q '3 of 3 known functions named' "$WORK/st.out" && ok || bad "ON: selftest output: $(cat "$WORK/st.out")"
  xmllint --noout "$out" 2>"$WORK/xml.err" && ok || bad "ON: selftest SVG not well-formed: $(head -3 "$WORK/xml.err")"
  grep -q 'selftest_sha256' "$out" && ok || bad "ON: the SVG does not name selftest_sha256"
  # an unwritable output: one line naming it, exit 1, nothing left
  "$CLI" bench profile-selftest --cpu-time 100ms -o /proc/no/such.svg >"$WORK/bad.out" 2>&1
  rc=$?
  [ "$rc" = 1 ] && [ "$(wc -l <"$WORK/bad.out")" = 1 ] && grep -q '/proc/no' "$WORK/bad.out" && ok ||
    bad "ON: unwritable -o: exit $rc: $(cat "$WORK/bad.out")"
else
  has_sym s3dlio_prof_start && ok # the stub that refuses
  has_sym on_sigprof && bad "OFF: the SIGPROF handler is in $LIB"
  has_sym 'capture|drain_loop|table_add' && bad "OFF: sampler functions are in $LIB"
  imports 'init_local2|_ULx86|unw_' && bad "OFF: libunwind is imported"
  imports 'timer_create|timer_settime' && bad "OFF: a POSIX timer is imported"
  imports 'dwfl_' && bad "OFF: libdw is imported"
  "$CLI" stage --profile-cpu s3://bucket/prefix/ >"$WORK/stage.out" 2>&1
  rc=$?
  [ "$rc" = 2 ] && grep -q 'no CPU sampler' "$WORK/stage.out" && [ "$(wc -l <"$WORK/stage.out")" = 1 ] &&
    ok || bad "OFF: stage --profile-cpu: exit $rc: $(cat "$WORK/stage.out")"
  "$CLI" bench profile-selftest -o "$WORK/x.svg" >"$WORK/st.out" 2>&1
  rc=$?
  [ "$rc" != 0 ] && grep -q 'no CPU sampler' "$WORK/st.out" && [ ! -e "$WORK/x.svg" ] && ok ||
    bad "OFF: profile-selftest: exit $rc: $(cat "$WORK/st.out")"
fi
[ $fails = 0 ] && echo "check_profiling_build $MODE: ok"
exit $((fails > 0))

#!/usr/bin/env bash
# put --recursive of a tree with entries that are not regular files: directory symlinks,
# FIFOs, dangling links. Every skipped entry is said, with why; --follow-symlinks follows
# links to directories (a loop is skipped, not walked forever). Single process and mpirun.
#   it_put_tree.sh MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/lib.sh"
MPIEXEC=$1; shift
PRE=("$@")
B=it-tree-$$-$RANDOM
S=s3://$B
"$CLI" mb -q "$S" || { echo "cannot create bucket" >&2; exit 1; }

# 7 entries: 3 files, a link to a file, a link to a directory, a FIFO, a dangling link
T=$WORK/tree
mkdir -p "$T/sub" "$WORK/elsewhere"
make_file "$T/a" 1000
make_file "$T/sub/b" 2000
make_file "$WORK/elsewhere/c" 3000
ln -s a "$T/filelink"
ln -s "$WORK/elsewhere" "$T/dirlink"
mkfifo "$T/fifo"
ln -s nowhere "$T/dangling"
ln -s .. "$T/sub/up"

keys() { "$CLI" ls -r "$1" | awk -v p="$1" '{ k = $2; sub(p, "", k); print k }' | sort | tr '\n' ' '; }

# 1. default: files and links to files go; the rest is skipped, each one said, with why
"$CLI" put -r "$T" "$S/d1/" >"$WORK/d1.out" 2>&1
rc=$?
[ "$rc" = 0 ] && ok || bad "default put -r exit $rc: $(cat "$WORK/d1.out")"
[ "$(keys "$S/d1/")" = "a filelink sub/b " ] && ok || bad "default uploads: $(keys "$S/d1/")"
grep -q "skipped '$T/fifo': FIFO" "$WORK/d1.out" && ok || bad "FIFO said: $(cat "$WORK/d1.out")"
grep -q "skipped '$T/dangling': dangling symbolic link" "$WORK/d1.out" && ok || bad "dangling link said"
grep -q "skipped '$T/dirlink': symbolic link to a directory (--follow-symlinks follows it)" "$WORK/d1.out" &&
  ok || bad "directory link said, with the option"
grep -q "skipped '$T/sub/up'" "$WORK/d1.out" && ok || bad "link to the parent said"
grep -q "put: 3 objects, .*4 entries skipped" "$WORK/d1.out" && ok || bad "summary counts skips: $(tail -1 "$WORK/d1.out")"

# 2. --follow-symlinks: the linked directory's files under the link's name; loops skipped
"$CLI" put -r --follow-symlinks "$T" "$S/d2/" >"$WORK/d2.out" 2>&1
rc=$?
[ "$rc" = 0 ] && ok || bad "follow exit $rc: $(cat "$WORK/d2.out")"
[ "$(keys "$S/d2/")" = "a dirlink/c filelink sub/b " ] && ok || bad "followed uploads: $(keys "$S/d2/")"
grep -q "skipped '$T/sub/up': symbolic link loop" "$WORK/d2.out" && ok || bad "loop said: $(cat "$WORK/d2.out")"
"$CLI" get -q "$S/d2/dirlink/c" "$WORK/c.back" && same_file "$WORK/c.back" "$WORK/elsewhere/c" && ok ||
  bad "linked file byte for byte"

# 3. -q does not hide what was left out
"$CLI" put -q -r "$T" "$S/d3/" >"$WORK/d3.out" 2>&1
grep -q "skipped '$T/fifo'" "$WORK/d3.out" && ok || bad "-q still says what was skipped"

# 4. under mpirun: rank 0 lists, says each skip once; --follow-symlinks spreads the same set
if command -v "$MPIEXEC" >/dev/null; then
  "$MPIEXEC" -n 2 "${PRE[@]}" "$CLI" put -r --report "$WORK/m.json" "$T" "$S/m1/" >"$WORK/m1.out" 2>&1
  rc=$?
  [ "$rc" = 0 ] && ok || bad "mpirun put -r exit $rc: $(tail -5 "$WORK/m1.out")"
  [ "$(keys "$S/m1/")" = "a filelink sub/b " ] && ok || bad "mpirun uploads: $(keys "$S/m1/")"
  [ "$(grep -c "skipped '$T/fifo'" "$WORK/m1.out")" = 1 ] && ok || bad "said once: $(cat "$WORK/m1.out")"
  "$MPIEXEC" -n 2 "${PRE[@]}" "$CLI" put -r --follow-symlinks --report "$WORK/m2.json" "$T" "$S/m2/" \
    >"$WORK/m2.out" 2>&1 || bad "mpirun follow: $(tail -5 "$WORK/m2.out")"
  [ "$(keys "$S/m2/")" = "a dirlink/c filelink sub/b " ] && ok || bad "mpirun followed: $(keys "$S/m2/")"
fi

# 5. without mpirun there is no job report: --report would do nothing, so it is refused
"$CLI" put -r --report "$WORK/alone.json" "$T" "$S/alone/" >"$WORK/alone.out" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q -- "--report is for jobs" "$WORK/alone.out" && [ ! -e "$WORK/alone.json" ] && ok ||
  bad "put -r --report alone: exit $rc: $(tail -3 "$WORK/alone.out")"

# 6. a file name that is not UTF-8 cannot be an S3 key (the server refuses it): exit 1, and the
#    report stays valid JSON with the name's exact bytes in key_hex
U=$WORK/utf
mkdir -p "$U"
make_file "$U/good" 100
make_file "$U/$(printf 'bad\xffname')" 100
"$MPIEXEC" -n 1 "${PRE[@]}" "$CLI" put -r --report "$WORK/u.json" "$U" "$S/u/" >"$WORK/u.out" 2>&1
rc=$?
[ "$rc" = 1 ] && ok || bad "non-UTF-8 name: exit $rc, want 1: $(tail -3 "$WORK/u.out")"
got=$(/usr/bin/python3 -c '
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))   # strict: fails on raw bytes
print(" ".join(f["key_hex"] for f in d["failed"]))' "$WORK/u.json" 2>&1)
[ "$got" = 752f626164ff6e616d65 ] && ok || bad "report of a non-UTF-8 key: $got"

"$CLI" rm -q --recursive "$S/" && "$CLI" rb -q "$S" || bad "cleanup"
finish

#!/usr/bin/env bash
# mpirun -n NP s3dlio-mpi stage --list-only against the real server, on the bucket of
# list_tree.sh (about 20,000 keys in nested prefixes of uneven sizes, a flat directory,
# awkward characters, a folder marker; made once for every world size by a CTest fixture).
# The parallel listing, the single lister (--list-parallel off) and awscli's list-objects-v2
# must give the same keys, sizes and ETags in the same order, byte for byte; a flat bucket
# (start-after ranges only) and an empty prefix too.
#   it_list_parallel.sh NP TREE_STATE MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; TREE=$2; MPIEXEC=$3; shift 3
PRE=("$@")
[ -r "$TREE/bucket" ] || { echo "no list tree at $TREE (did the list_tree fixture run?)" >&2; exit 1; }
B=$(cat "$TREE/bucket")
nfiles=$(cat "$TREE/nfiles")
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }

# compare PREFIX WANT: parallel and single listings of PREFIX against awscli's, WANT keys
compare() {
  local p=$1 want=$2 tag=${1//\//_}
  cp "$TREE/aws-$tag" "$WORK/aws-$tag" || { bad "no awscli listing of '$p'"; return; }
  [ "$(wc -l <"$WORK/aws-$tag")" = "$want" ] && ok || bad "awscli lists $want keys under '$p'"
  run stage --list-only --list-dump "$WORK/par-$tag" "s3://$B/$p" >"$WORK/par-$tag.out" 2>&1 &&
    ok || bad "parallel listing of '$p': $(tail -3 "$WORK/par-$tag.out")"
  run stage --list-only --list-parallel off --list-dump "$WORK/one-$tag" "s3://$B/$p" \
    >"$WORK/one-$tag.out" 2>&1 && ok || bad "single listing of '$p': $(tail -3 "$WORK/one-$tag.out")"
  cmp -s "$WORK/aws-$tag" "$WORK/par-$tag" && ok ||
    bad "parallel listing of '$p' differs from awscli's: $(diff "$WORK/aws-$tag" "$WORK/par-$tag" | head -5)"
  cmp -s "$WORK/aws-$tag" "$WORK/one-$tag" && ok ||
    bad "single listing of '$p' differs from awscli's: $(diff "$WORK/aws-$tag" "$WORK/one-$tag" | head -5)"
}

compare ds/ $((nfiles + 1))
compare "" $((nfiles + 1 + 2500))            # the whole bucket: no prefix at all
compare flatonly/ 2500                        # flat: start-after ranges only
compare ds/a/b0 "$(grep -c '^ds/a/b0' "$WORK/aws-ds_")"   # a prefix that is not a directory
compare ds/nothing-here/ 0

# the count stage reports leaves out the marker
grep -q "^listed $nfiles objects in" "$WORK/par-ds_.out" && ok ||
  bad "stage --list-only says listed $nfiles: $(cat "$WORK/par-ds_.out")"
expect list_parallel_bad 2 "--list-parallel must be 'on' or 'off'" -- \
  "$CLI" stage --list-only --list-parallel maybe "s3://$B/ds/"

finish

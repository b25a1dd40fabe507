#!/usr/bin/env bash
# mpirun -n NP s3dlio-mpi stage --list-only against the real server: about 20,000 keys in
# nested prefixes of uneven sizes, a flat directory of 5,000, keys at the top, a lone deep
# key, a folder marker and awkward characters (space, '+', unicode). The parallel listing,
# the single lister (--list-parallel off) and awscli's list-objects-v2 must give the same
# keys, sizes and ETags in the same order, byte for byte; a flat bucket (start-after ranges
# only) and an empty prefix too.
#   it_list_parallel.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
command -v aws >/dev/null || { echo "aws not installed (scripts/install-deps installs awscli)"; exit 77; }
B=it-listp-np$NP-$$-$RANDOM
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }

# the tree: sizes 0..16 bytes, written locally (fast) and uploaded in one put -r
T=$WORK/tree
mkdir -p "$T"
python3 - "$T" <<'EOF'
import os, sys
root = sys.argv[1]
def put(rel, i):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(b"x" * (i % 17))
n = 0
for i in range(40):                                   # keys at the top level
    put("top-%03d.txt" % i, i); n += 1
for i in range(5000):                                 # one flat directory
    put("flat/f-%05d" % i, i); n += 1
for b in range(12):                                   # a/bB/cC/: uneven fan-out and sizes
    for c in range(b + 1):
        for k in range(7 * (b + 1) + 3 * c):
            put("a/b%02d/c%02d/k-%04d" % (b, c, k), k); n += 1
for i in range(3000):                                 # one big leaf under a deep path
    put("deep/x/y/z/leaf-%05d" % i, i); n += 1
put("lone/one/two/three/only", 5); n += 1             # an almost empty prefix
for name in ["sp ace/a b.txt", "plus+sign/c+d", "ünï/cødé-ø.bin", "ünï/日本/語",
             "mix/a-b", "mix/a/b", "mix/a0", "mix/a.b"]:
    put(name, len(name)); n += 1
i = 0
while n < 20000:                                      # fill up with a second nested tree
    put("z/%02d/%03d" % (i % 37, i), i); n += 1; i += 1
EOF
nfiles=$(find "$T" -type f | wc -l)
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
run put -q -r --put-concurrency 64 "$T" "s3://$B/ds/" >"$WORK/put.out" 2>&1 ||
  { echo "upload failed: $(tail -3 "$WORK/put.out")" >&2; exit 1; }
# a folder marker (consoles make them): listed like any key, dropped by stage afterwards
aws --endpoint-url "$AWS_ENDPOINT_URL" s3api put-object --bucket "$B" --key "ds/a/b03/" >/dev/null ||
  bad "folder marker"
"$CLI" put -q --generate --count 2500 --min-size 0 --max-size 8 "s3://$B/flatonly/" || bad "flat set"

# awscli's listing as key TAB size TAB etag (quotes stripped), in the server's order
aws_list() {
  aws --endpoint-url "$AWS_ENDPOINT_URL" s3api list-objects-v2 --bucket "$B" --prefix "$1" \
    --output json >"$WORK/aws.json" || return 1
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
out = open(sys.argv[2], "w", encoding="utf-8", newline="\n")
for o in d.get("Contents", []):
    out.write("%s\t%d\t%s\n" % (o["Key"], o["Size"], o["ETag"].strip("\"")))' "$WORK/aws.json" "$2"
}

# compare PREFIX WANT: parallel and single listings of PREFIX against awscli's, WANT keys
compare() {
  local p=$1 want=$2 tag=${1//\//_}
  aws_list "$p" "$WORK/aws-$tag" || { bad "awscli list '$p'"; return; }
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

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish

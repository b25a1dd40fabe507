#!/usr/bin/env bash
# The listing dealt from where it was listed (s3dlio_table_deal) against the merged listing
# dealt by rank 0, row for row on every rank (tests/mpi/table_deal.c), on listings made to
# catch it out:
#  - a bucket where keys are also directories ("K" and "K/x") across every kind of boundary
#    of the parallel listing: a key and its directory in one level (a literal unit and a
#    prefix piece), in a flat level of more than a page (cut into start-after ranges), with
#    siblings between them ("K-x", "K.x" sort between "K" and "K/x"), with only a folder
#    marker "K/" below (not a conflict), and with a marker and data below;
#  - a file:// tree of nested and flat directories (no conflicts: a file is not a directory).
#   it_table_deal.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
DEAL=${S3DLIO_TABLE_DEAL:?S3DLIO_TABLE_DEAL must name the table_deal test program}
command -v aws >/dev/null || { echo "aws not installed (scripts/install-deps installs awscli)"; exit 1; }
B=it-deal-$$-$RANDOM
cleanup() { "$CLI" rm -q --recursive "s3://$B/" >/dev/null 2>&1; "$CLI" rb -q "s3://$B" >/dev/null 2>&1; rm -rf "$WORK"; }
trap cleanup EXIT

# Two trees: a file can't also be a directory, so the keys that are both come in two uploads.
python3 - "$WORK/files" "$WORK/dirs" <<'PY' || { echo "cannot make the trees" >&2; exit 1; }
import os, sys
files, dirs = sys.argv[1], sys.argv[2]
def put(root, rel, n):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(b"y" * n)
for i in range(2400):                        # flat level: more than two pages, cut in ranges
    put(files, "flat/k%04d" % i, i % 13)
    if i % 7 == 0:                           # ... some keys also directories
        put(dirs, "flat/k%04d/x" % i, 3)
    if i % 11 == 0:                          # ... siblings sorting between "K" and "K/x"
        put(files, "flat/k%04d-s" % i, 1)
        put(files, "flat/k%04d.t" % i, 2)
for t in range(6):                           # the listed level: literal units and prefix
    put(files, "t%02d" % t, t)               # pieces, always cut apart (the first level is
    put(files, "t%02d-z" % t, t)             # always expanded): asked of the other ranks
    for j in range(30):
        put(dirs, "t%02d/g%02d" % (t, j), j % 4)
for d in range(12):                          # levels: a key and its directory as units
    put(files, "lvl/d%02d" % d, d)
    for j in range(40 + 10 * d):
        put(dirs, "lvl/d%02d/f%03d" % (d, j), j % 5)
    put(files, "lvl/d%02d-after" % d, 1)
put(files, "deep/a/b/c", 4)                  # a key that is a directory several levels down
put(dirs, "deep/a/b/c/d/e/f", 5)
put(files, "mark/only", 6)                   # below it only a folder marker (made below)
put(files, "mark/both", 7)                   # a marker and data below it
put(dirs, "mark/both/data", 8)
PY
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
for t in files dirs; do
  "$CLI" put -q -r --put-concurrency 64 "$WORK/$t" "s3://$B/set/" >"$WORK/put-$t.out" 2>&1 ||
    { echo "upload of $t failed: $(tail -3 "$WORK/put-$t.out")" >&2; exit 1; }
done
for k in set/mark/only/ set/mark/both/ set/lvl/d03/; do
  aws --endpoint-url "$AWS_ENDPOINT_URL" s3api put-object --bucket "$B" --key "$k" >/dev/null ||
    { echo "cannot make the folder marker $k" >&2; exit 1; }
done
# every seventh flat key, six top keys, the twelve levels, deep and mark/both: 343+6+12+1+1
want_conflicts=363

deal() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$DEAL" "$@" >"$WORK/deal.out" 2>&1; }
deal "s3://$B/set/" "$want_conflicts" && ok || bad "bucket with conflicts at -n $NP: $(grep -v '^\[' "$WORK/deal.out" | tail -3; grep FAIL "$WORK/deal.out" | head -5)"
cat "$WORK/deal.out" | grep -v FAIL | tail -2
deal "s3://$B/" "$want_conflicts" && ok || bad "the whole bucket at -n $NP: $(grep FAIL "$WORK/deal.out" | head -5)"
deal "s3://$B/set/flat/" 343 && ok || bad "the flat level alone at -n $NP: $(grep FAIL "$WORK/deal.out" | head -5)"

# file://: nested and flat directories, no conflicts
python3 - "$WORK/tree" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(30):
    for j in range(25 * (d % 5 + 1)):
        p = os.path.join(root, "n%02d" % d, "s%d" % (j % 3), "f%03d" % j)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, "wb").write(b"z" * (j % 7))
os.makedirs(os.path.join(root, "flat"))
for i in range(1500):
    open(os.path.join(root, "flat", "g%05d" % i), "wb").write(b"q" * (i % 3))
PY
deal "file://$WORK/tree/" 0 && ok || bad "file:// tree at -n $NP: $(grep FAIL "$WORK/deal.out" | head -5)"
finish

#!/usr/bin/env bash
# The bucket the parallel listing tests list, made once and shared by them (a CTest fixture):
# about 20,000 keys in nested prefixes of uneven sizes, a flat directory of 5,000, keys at the
# top, a lone deep key, a folder marker and awkward characters (space, '+', unicode), and a
# flat set of 2,500 generated keys; beside it awscli's listing of each prefix the tests compare.
#   list_tree.sh setup STATE_DIR | list_tree.sh cleanup STATE_DIR
# STATE_DIR/bucket names the bucket, STATE_DIR/nfiles the keys under ds/ (marker left out),
# STATE_DIR/aws-<prefix with / as _> awscli's listing as key TAB size TAB etag.
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
mode=$1 STATE=$2
command -v aws >/dev/null || { echo "aws not installed (scripts/install-deps installs awscli)"; exit 1; }

if [ "$mode" = cleanup ]; then
  [ -r "$STATE/bucket" ] || exit 0
  B=$(cat "$STATE/bucket")
  "$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || { echo "cleanup of $B failed" >&2; exit 1; }
  rm -rf "$STATE"
  exit 0
fi

rm -rf "$STATE" && mkdir -p "$STATE" || exit 1
B=it-listp-$$-$RANDOM
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
find "$T" -type f | wc -l >"$STATE/nfiles"
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
echo "$B" >"$STATE/bucket"   # from here on, cleanup removes it
"$CLI" put -q -r --put-concurrency 64 "$T" "s3://$B/ds/" >"$WORK/put.out" 2>&1 ||
  { echo "upload failed: $(tail -3 "$WORK/put.out")" >&2; exit 1; }
# a folder marker (consoles make them): listed like any key, dropped by stage afterwards
aws --endpoint-url "$AWS_ENDPOINT_URL" s3api put-object --bucket "$B" --key "ds/a/b03/" >/dev/null ||
  { echo "folder marker failed" >&2; exit 1; }
"$CLI" put -q --generate --count 2500 --min-size 0 --max-size 8 "s3://$B/flatonly/" ||
  { echo "flat set failed" >&2; exit 1; }

# awscli's listing as key TAB size TAB etag (quotes stripped), in the server's order
for p in ds/ "" flatonly/ ds/a/b0 ds/nothing-here/; do
  aws --endpoint-url "$AWS_ENDPOINT_URL" s3api list-objects-v2 --bucket "$B" --prefix "$p" \
    --output json >"$WORK/aws.json" || { echo "awscli list '$p' failed" >&2; exit 1; }
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
out = open(sys.argv[2], "w", encoding="utf-8", newline="\n")
for o in d.get("Contents", []):
    out.write("%s\t%d\t%s\n" % (o["Key"], o["Size"], o["ETag"].strip("\"")))' "$WORK/aws.json" "$STATE/aws-${p//\//_}"
done
echo "list_tree: s3://$B ready ($(cat "$STATE/nfiles") files under ds/)"

#!/usr/bin/env bash
# A plan costs its listing row, not a job per object: `get -r` of 1,000,000 objects (empty
# files through file://, so no server is needed) moves every one, and its peak RSS above the
# same command's over one object stays under 64 bytes plus the key per object (issue 12; a
# job is 376 bytes, a row 24 plus its key and ETag, and the jobs are made 1,024 at a time).
#   it_million.sh            (S3DLIO_MILLION=N for another count)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
million_tree million
# peak CMD...: "exit-code peak-RSS-KiB" of CMD, its output in $WORK/out
peak() {
  python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"), stderr=subprocess.STDOUT)
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$WORK/out" "$@"
}
read -r rc1 one < <(peak "$CLI" get -r "file://$D/one/" null:)
[ "$rc1" = 0 ] && ok || bad "get -r of one object: exit $rc1: $(cat "$WORK/out")"
read -r rc all < <(peak "$CLI" get -r "file://$D/many/" null:)
[ "$rc" = 0 ] && grep -q "^get: $N objects, 0 bytes" "$WORK/out" && ok ||
  bad "get -r of $N objects: exit $rc: $(tail -3 "$WORK/out")"
key="${D#/}/many/train/shard-00000/img-00000000.jpg" # as file:// lists it
per=$(( (all - one) * 1024 / N ))
bound=$(( 64 + ${#key} ))
echo "get -r of $N objects: peak $all KiB, one object $one KiB: $per bytes per object (bound $bound: 64 + the ${#key}-byte key)"
[ "$per" -le "$bound" ] && ok || bad "$per bytes per object, over 64 plus the ${#key}-byte key"
finish

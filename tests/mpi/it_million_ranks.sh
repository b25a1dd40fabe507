#!/usr/bin/env bash
# What a rank holds of a 1,000,000-object listing under mpirun (issue 12): stage --to null of
# 1,000,000 empty files (file://, no server) at -n 2 and -n 4 moves every object once, and each
# rank's peak RSS above the same world size's run over one object stays under 64 bytes plus
# the key per object of its share. Rank 0 also partitions the whole listing, from its sizes
# alone: 28 bytes an object more (size 8, owner 4, LPT's sort 16). No rank holds the listing:
# the ranks list it in pieces and send each row to its owner (s3dlio_table_deal).
#   it_million_ranks.sh MPIEXEC [MPIEXEC_PREFLAGS...]      (S3DLIO_MILLION=N for another count)
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
MPIEXEC=$1; shift
PRE=("$@")
million_tree million-ranks
key="${D#/}/many/train/shard-00000/img-00000000.jpg" # as file:// lists it

# stage NP TREE NAME: its report in $WORK/NAME.json
stage() {
  "$MPIEXEC" -n "$1" "${PRE[@]}" "$CLI" stage -q --to null --report "$WORK/$3.json" \
    "file://$D/$2/" >"$WORK/$3.out" 2>&1
}
for np in 2 4; do
  stage "$np" one "one$np" && ok || bad "-n $np, one object: $(tail -3 "$WORK/one$np.out")"
  stage "$np" many "many$np" && ok || bad "-n $np, $N objects: $(tail -3 "$WORK/many$np.out")"
  python3 - "$WORK/one$np.json" "$WORK/many$np.json" "$N" "$np" "${#key}" <<'PY' && ok || bad "-n $np: see above"
import json, sys
one, many = (json.load(open(p))["per_rank"] for p in sys.argv[1:3])
n, np, klen = (int(a) for a in sys.argv[3:6])
share = -(-n // np)
fail = 0
done = sum(r["objects"] for r in many)
if done != n or any(r["failures"] for r in many):
    print("-n %d: %d of %d objects done" % (np, done, n)); fail = 1
for a, b in zip(one, many):
    above = (b["peak_rss_kib"] - a["peak_rss_kib"]) * 1024
    bound = (64 + klen) * share + (28 * n if b["rank"] == 0 else 0)
    print("-n %d rank %d: %d objects, peak %d KiB, %d above one object's: %.1f bytes per object "
          "of its share (bound %.1f)" % (np, b["rank"], b["objects"], b["peak_rss_kib"], above // 1024,
                                         above / share, bound / share))
    if above > bound:
        fail = 1
sys.exit(fail)
PY
done
finish

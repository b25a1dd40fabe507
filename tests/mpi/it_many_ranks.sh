#!/usr/bin/env bash
# Many ranks on a small dataset (issue 12): a few hundred tiny objects staged by NP ranks
# (oversubscribed) --to dir: and --to null. Every object exactly once: the files written, and
# for --to null the union of every rank's successful GETs in the trace, against the listing
# (a key twice or missing fails); the report consistent: listed == objects done == the sum of
# the per-rank objects, one entry per rank, no failures.
#   it_many_ranks.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
B=it-many-np$NP-$$-$RANDOM
N=300
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }

"$CLI" mb -q "s3://$B" &&
  "$CLI" put -q --generate --count $N --min-size 1 --max-size 3KiB --seed 12 "s3://$B/d/" &&
  "$CLI" stage -q --list-only --list-dump "$WORK/list.tsv" "s3://$B/d/" >/dev/null ||
  { echo "setup failed" >&2; exit 1; }
[ "$(wc -l <"$WORK/list.tsv")" -eq $N ] && ok || bad "listing has $(wc -l <"$WORK/list.tsv") keys, want $N"

# report REPORT: listed == done == sum over ranks, NP ranks, no failures
report_ok() {
  python3 - "$1" "$NP" "$N" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); np, n = int(sys.argv[2]), int(sys.argv[3])
t = d["totals"]; ranks = d["per_rank"]
errs = []
if t["listed"] != n: errs.append(f"listed {t['listed']}, want {n}")
if t["objects"] != t["listed"]: errs.append(f"objects {t['objects']} != listed {t['listed']}")
if sum(r["objects"] for r in ranks) != t["listed"]: errs.append("per-rank objects do not sum to listed")
if sorted(r["rank"] for r in ranks) != list(range(np)): errs.append(f"{len(ranks)} per-rank entries, want {np}")
if t["failures"]: errs.append(f"{t['failures']} failures")
print("; ".join(errs)); sys.exit(1 if errs else 0)
PY
}

# 1. --to dir: the files written are the listing, each with its listed size
run stage -q --to "dir:$WORK/out" --report "$WORK/dir.json" "s3://$B/d/" >"$WORK/dir.out" 2>&1 ||
  bad "stage --to dir: $(tail -3 "$WORK/dir.out")"
msg=$(report_ok "$WORK/dir.json") && ok || bad "--to dir report: $msg"
(cd "$WORK/out" && find . -type f -printf '%P\t%s\n' | LC_ALL=C sort) >"$WORK/files.tsv"
awk -F'\t' '{ sub(/^d\//, "", $1); print $1 "\t" $2 }' "$WORK/list.tsv" | LC_ALL=C sort >"$WORK/want.tsv"
cmp -s "$WORK/files.tsv" "$WORK/want.tsv" && ok ||
  bad "--to dir: files differ from the listing: $(diff "$WORK/want.tsv" "$WORK/files.tsv" | head -5)"

# 2. --to null: every rank's successful GETs (the trace) together are the listing, once each
run stage -q --to null --trace "$WORK/null.trace.json" --report "$WORK/null.json" "s3://$B/d/" \
  >"$WORK/null.out" 2>&1 || bad "stage --to null: $(tail -3 "$WORK/null.out")"
msg=$(report_ok "$WORK/null.json") && ok || bad "--to null report: $msg"
msg=$(python3 - "$WORK/null.trace.json" "$WORK/list.tsv" "$WORK/null.json" <<'PY'
import collections, json, sys
tr = json.load(open(sys.argv[1]))
events = tr["traceEvents"] if isinstance(tr, dict) else tr
got = collections.Counter(); per_rank = collections.Counter()
for e in events:
    a = e.get("args", {})
    if e.get("ph") == "X" and e.get("cat") == "data" and a.get("rc") == "ok" and "key" in a:
        got[a["key"]] += 1; per_rank[e["pid"]] += 1
want = [l.split("\t")[0] for l in open(sys.argv[2])]
errs = []
twice = [k for k, c in got.items() if c > 1]
missing = [k for k in want if k not in got]
extra = [k for k in got if k not in set(want)]
if twice: errs.append(f"{len(twice)} keys fetched more than once, e.g. {twice[0]}")
if missing: errs.append(f"{len(missing)} keys never fetched, e.g. {missing[0]}")
if extra: errs.append(f"{len(extra)} keys not in the listing, e.g. {extra[0]}")
rep = {r["rank"]: r["objects"] for r in json.load(open(sys.argv[3]))["per_rank"]}
names = {e["pid"]: e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "process_name"}
by_rank = {int(names[p].split()[1]): c for p, c in per_rank.items()}
if any(by_rank.get(r, 0) != c for r, c in rep.items()): errs.append(f"trace per rank {by_rank} != report {rep}")
print("; ".join(errs)); sys.exit(1 if errs else 0)
PY
) && ok || bad "--to null trace: $msg"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish

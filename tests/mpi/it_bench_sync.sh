#!/usr/bin/env bash
# bench sync under mpirun, against the local RGW: 24 small objects read in rounds (the same
# assignment every round, then --shuffle) and written (--write). The report's figures must
# agree with the bytes: per round the ranks' bytes add up to the dataset's and their objects
# to 24, the slowest time is the largest rank time, the throughput is bytes / slowest, the
# ratios and the skew follow from the ranks' own figures; the assignment hashes cover every key
# once per round, stay put without --shuffle and move with it (the same again for the same
# seed); the slowest-most-often counts add up to the rounds. The JSON passes its schema, the
# SVG is well-formed, --write leaves nothing under the prefix (also after Ctrl-C), a missing
# bucket fails in one line, a refused object stops the run after its round and is named in the
# report. No timing is asserted.
#   it_bench_sync.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
SCHEMA="$(dirname "$0")/../../docs/bench-sync-schema.json"
CHECK_SCHEMA="$(dirname "$0")/../unit/check-report-schema.py"
B=it-bsync-np$NP-$$-$RANDOM
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }

"$CLI" mb -q "s3://$B" &&
  "$CLI" put -q --generate --count 24 --min-size 64KiB --max-size 512KiB "s3://$B/data/" &&
  "$CLI" ls -r "s3://$B/data/" >"$WORK/listing" || { echo "setup failed" >&2; exit 1; }
# the keys as the report hashes them (the URI without s3://bucket/)
sed -E "s|^ *[0-9]+ +s3://$B/||" "$WORK/listing" >"$WORK/keys"
[ "$(wc -l <"$WORK/keys")" = 24 ] || { echo "setup: $(wc -l <"$WORK/keys") keys listed, not 24" >&2; exit 1; }

# consistent REPORT SHUFFLE: every figure of the report against the others (python3, stdlib)
consistent() {
  python3 - "$1" "$2" "$NP" "$WORK/keys" <<'EOF'
import json, sys
path, shuffle, np_, keys_file = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), sys.argv[4]
d = json.load(open(path))
keys = [k for k in open(keys_file).read().split("\n") if k]
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
def close(a, b, rel=2e-3, abs_=2e-3):
    return a is not None and b is not None and abs(a - b) <= max(abs_, rel * abs(b))
def fnv(key):
    h = 0xcbf29ce484222325
    for c in key.encode():
        h = ((h ^ c) * 0x100000001b3) % 2**64
    return h
keysum = sum(fnv(k) for k in keys) % 2**64
check(d["ranks"] == np_, f"ranks {d['ranks']}")
check(d["rounds_done"] == d["rounds_asked"] == len(d["rounds"]), "rounds done/asked/listed differ")
check(d["dataset"]["objects"] == 24, f"dataset objects {d['dataset']['objects']}")
check(d["shuffle"] == shuffle, "shuffle flag")
total_bytes = d["dataset"]["bytes"]
for r in d["rounds"]:
    n, pr = r["round"], r["per_rank"]
    check([p["rank"] for p in pr] == list(range(np_)), f"round {n}: per_rank is not ranks 0..{np_-1}")
    check(sum(p["bytes"] for p in pr) == total_bytes == r["bytes"], f"round {n}: bytes {sum(p['bytes'] for p in pr)}/{r['bytes']} != {total_bytes}")
    check(sum(p["objects"] for p in pr) == 24 == r["objects"], f"round {n}: objects")
    check(r["failures"] == 0 and all(p["failures"] == 0 for p in pr), f"round {n}: failures")
    secs = [p["seconds"] for p in pr]
    check(r["slowest_s"] == max(secs), f"round {n}: slowest {r['slowest_s']} != max {max(secs)}")
    check(pr[r["slowest_rank"]]["seconds"] == max(secs), f"round {n}: slowest_rank")
    busy = sorted(p["seconds"] for p in pr if p["objects"])
    check(r["fastest_s"] == busy[0] and pr[r["fastest_rank"]]["seconds"] == busy[0], f"round {n}: fastest")
    m = len(busy)
    med = busy[m // 2] if m % 2 else (busy[m // 2 - 1] + busy[m // 2]) / 2
    check(close(r["median_s"], med, 1e-4, 2e-6), f"round {n}: median {r['median_s']} != {med}")
    check(close(r["MBps"], r["bytes"] / r["slowest_s"] / 1e6), f"round {n}: MBps {r['MBps']} != bytes/slowest")
    check(close(r["spread"]["max_min"], r["slowest_s"] / r["fastest_s"]), f"round {n}: max/min")
    check(close(r["spread"]["max_median"], r["slowest_s"] / r["median_s"]), f"round {n}: max/median")
    check(r["spread"]["max_min"] >= r["spread"]["max_median"] >= 1, f"round {n}: ratios out of order")
    waits = [p["wait_s"] for p in pr]
    check(close(r["skew_s"], max(waits) - min(waits), 1e-3, 3e-6), f"round {n}: skew")
    asum = sum(int(p["assignment"], 16) for p in pr) % 2**64
    check(asum == keysum, f"round {n}: the assignments do not cover every key once")
s = d["summary"]
slowest = [r["slowest_s"] for r in d["rounds"]]
check(s["round_s"]["max"] == max(slowest), "summary round_s.max")
check(min(slowest) <= s["round_s"]["p50"] <= s["round_s"]["p90"] <= max(slowest), "summary round_s order")
check(close(s["sustained_MBps"], sum(r["bytes"] for r in d["rounds"]) / sum(slowest) / 1e6), "sustained")
check(close(s["mean_MBps"], sum(r["MBps"] for r in d["rounds"]) / len(d["rounds"])), "mean MBps")
check(sum(x["count"] for x in s["slowest_ranks"]) == d["rounds_done"], "slowest counts != rounds")
check(sum(s["slowest_hosts"].values()) == d["rounds_done"], "slowest host counts != rounds")
for x in s["slowest_ranks"]:
    want = sum(1 for r in d["rounds"] if r["slowest_rank"] == x["rank"])
    check(x["count"] == want and x["host"] == d["hosts"][x["rank"]], f"slowest rank {x['rank']}")
# which objects each rank had: the same every round without --shuffle, moved with it
sets = [tuple(p["assignment"] for p in r["per_rank"]) for r in d["rounds"]]
if not shuffle or np_ == 1:
    check(len(set(sets)) == 1, f"assignments changed between rounds: {sets}")
else:
    check(all(a != b for a, b in zip(sets, sets[1:])), f"--shuffle kept an assignment: {sets}")
for b in bad:
    print(f"{path}: {b}")
sys.exit(1 if bad else 0)
EOF
}

# checks REPORT NAME SHUFFLE: schema, figures, the picture
checks() {
  local rep=$1 name=$2 svg=${1%.json}.svg
  python3 "$CHECK_SCHEMA" "$SCHEMA" "$rep" >"$WORK/schema.out" 2>&1; local rc=$?
  [ $rc = 0 ] || [ $rc = 77 ] && ok || bad "$name: schema: $(cat "$WORK/schema.out")"
  consistent "$rep" "$3" >"$WORK/cons.out" 2>&1 && ok || bad "$name: $(cat "$WORK/cons.out")"
  xmllint --noout "$svg" 2>"$WORK/xml.err" && ok || bad "$name: $svg not well-formed: $(head -2 "$WORK/xml.err")"
  grep -q "<title>round 1, rank $((NP - 1)) (" "$svg" && ok || bad "$name: no hover title for rank $((NP - 1))"
  [ "$(json_field "$rep" 'd["files"][0]["path"]')" = "$svg" ] && ok || bad "$name: the report does not list $svg"
}
json_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

# 1. the same assignment every round
R=$WORK/plain/bench-sync.json
run bench sync --rounds 3 --report "$R" "s3://$B/data/" >"$WORK/plain.out" 2>"$WORK/plain.err" && ok ||
  bad "bench sync: $(tail -3 "$WORK/plain.err")"
checks "$R" "bench sync" 0
grep -q '^  slowest most ' "$WORK/plain.out" && grep -q '^  rank 0 ' "$WORK/plain.out" && ok ||
  bad "the table lacks the slowest ranks or the per-rank times: $(cat "$WORK/plain.out")"
[ "$(grep -c '^bench sync: round [0-9]/3: slowest' "$WORK/plain.err")" = 3 ] && ok ||
  bad "want one progress line per round on stderr: $(cat "$WORK/plain.err")"

# 2. --shuffle: a new deal each round, the same deal again for the same seed; -q prints nothing
R=$WORK/shuf/bench-sync.json
run bench sync --rounds 3 --shuffle --seed 7 --report "$R" "s3://$B/data/" >"$WORK/shuf.out" 2>&1 && ok ||
  bad "bench sync --shuffle: $(tail -3 "$WORK/shuf.out")"
checks "$R" "bench sync --shuffle" 1
R2=$WORK/shuf2/bench-sync.json
run bench sync -q --rounds 2 --shuffle --seed 7 --report "$R2" "s3://$B/data/" >"$WORK/shuf2.out" 2>"$WORK/shuf2.err" &&
  ok || bad "bench sync -q --shuffle: $(tail -3 "$WORK/shuf2.err")"
[ ! -s "$WORK/shuf2.out" ] && [ ! -s "$WORK/shuf2.err" ] && ok || bad "-q printed: $(cat "$WORK/shuf2.out" "$WORK/shuf2.err")"
deal() { json_field "$1" '[[p["assignment"] for p in r["per_rank"]] for r in d["rounds"][:2]]'; }
[ "$(deal "$R")" = "$(deal "$R2")" ] && ok || bad "the same seed dealt differently: $(deal "$R") vs $(deal "$R2")"

# 3. --write: generated data of the listed sizes under a scratch prefix that is gone after
R=$WORK/write/bench-sync.json
run bench sync --write --rounds 2 --report "$R" "s3://$B/data/" >"$WORK/write.out" 2>&1 && ok ||
  bad "bench sync --write: $(tail -3 "$WORK/write.out")"
python3 "$CHECK_SCHEMA" "$SCHEMA" "$R" >"$WORK/schema.out" 2>&1; rc=$?
[ $rc = 0 ] || [ $rc = 77 ] && ok || bad "write: schema: $(cat "$WORK/schema.out")"
python3 - "$R" <<'EOF' >"$WORK/wcheck.out" 2>&1 && ok || bad "write report: $(cat "$WORK/wcheck.out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["mode"] == "write" and d["rounds_done"] == 2, (d["mode"], d["rounds_done"])
assert "/data/bench-sync-" in d["scratch"] and not d["scratch_left"], d["scratch"]
for r in d["rounds"]:
    assert r["bytes"] == d["dataset"]["bytes"] == sum(p["bytes"] for p in r["per_rank"]), r["bytes"]
    assert r["objects"] == 24 and r["failures"] == 0
EOF
"$CLI" ls -r "s3://$B/" >"$WORK/after" 2>&1
! grep -q 'bench-sync-' "$WORK/after" && [ "$(wc -l <"$WORK/after")" = 24 ] && ok ||
  bad "--write left objects behind: $(grep -c bench-sync- "$WORK/after") scratch keys, $(wc -l <"$WORK/after") in all"

# 4. a missing bucket: one line from rank 0, exit 1, no report
run bench sync --rounds 2 --report "$WORK/nob/bench-sync.json" "s3://$B-missing/data/" \
  >"$WORK/nob.out" 2>"$WORK/nob.err"
rc=$?
[ "$rc" = 1 ] && [ "$(grep -c '^s3dlio-mpi: ' "$WORK/nob.err")" = 1 ] && grep -q 'NoSuchBucket' "$WORK/nob.err" &&
  [ ! -e "$WORK/nob/bench-sync.json" ] && ok || bad "missing bucket: exit $rc: $(cat "$WORK/nob.err")"

# 5. a usage error: exit 2, said once
run bench sync --rounds 0 "s3://$B/data/" >"$WORK/use.out" 2>"$WORK/use.err"
rc=$?
[ "$rc" = 2 ] && [ "$(grep -c '^s3dlio-mpi: bench sync: --rounds must be' "$WORK/use.err")" = 1 ] && ok ||
  bad "--rounds 0: exit $rc: $(cat "$WORK/use.err")"

# 6. one object refused (403) in round 2: exit 1, one line naming it, the run stops after that
#    round, and the report names the key, its round and rank and counts the failure
url=$(proxy_start deny --status-every 30 --status 403 --max-faults 1 --only GET --only-path-regex '/data/obj-')
run bench sync --endpoint-url "$url" --retries 0 --rounds 3 --report "$WORK/deny/bench-sync.json" \
  "s3://$B/data/" >"$WORK/deny.out" 2>"$WORK/deny.err"
rc=$?
proxy_stop deny
[ "$rc" = 1 ] && grep -q '403' "$WORK/deny.err" && ok || bad "a refused object: exit $rc: $(cat "$WORK/deny.err")"
python3 - "$WORK/deny/bench-sync.json" "$WORK/keys" <<'EOF' >"$WORK/deny.check" 2>&1 && ok || bad "refused object: $(cat "$WORK/deny.check")"
import json, sys
d = json.load(open(sys.argv[1]))
keys = set(k for k in open(sys.argv[2]).read().split("\n") if k)
assert d["rounds_done"] == 2 and d["rounds_asked"] == 3, (d["rounds_done"], d["rounds_asked"])
f = d["failed"]
assert len(f) == 1 and f[0]["round"] == 2 and f[0]["key"] in keys and "403" in f[0]["error"], f
r2 = d["rounds"][1]
assert r2["failures"] == 1 == sum(p["failures"] for p in r2["per_rank"]), r2["failures"]
assert r2["per_rank"][f[0]["rank"]]["failures"] == 1, "the failure is not on the rank the list names"
# objects are those assigned (the failed one too); its bytes never arrived
assert r2["objects"] == 24 and r2["bytes"] < d["dataset"]["bytes"], (r2["objects"], r2["bytes"])
assert d["rounds"][0]["failures"] == 0 and d["rounds"][0]["bytes"] == d["dataset"]["bytes"], d["rounds"][0]
EOF

# 7. --write interrupted (SIGINT, a terminal's Ctrl-C) while the proxy holds the PUTs: the
#    scratch prefix is removed all the same, exit non-zero
url=$(proxy_start slow --delay-ms 8000 --only PUT)
interrupt_when_held slow INT "$WORK/wint.out" "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" bench sync --write \
  --endpoint-url "$url" --rounds 2 --report "$WORK/wint/bench-sync.json" "s3://$B/data/"
proxy_stop slow
[ "$rc" != 0 ] && ok || bad "--write + SIGINT: exit 0"
"$CLI" ls -r "s3://$B/" >"$WORK/after2" 2>&1
! grep -q 'bench-sync-' "$WORK/after2" && [ "$(wc -l <"$WORK/after2")" = 24 ] && ok ||
  bad "--write + SIGINT left $(grep -c bench-sync- "$WORK/after2") scratch keys: $(tail -3 "$WORK/wint.out")"

"$CLI" rm -q -r "s3://$B/" >/dev/null 2>&1
"$CLI" rb -q "s3://$B" >/dev/null 2>&1
finish

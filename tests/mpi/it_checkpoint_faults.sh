#!/usr/bin/env bash
# checkpoint when things go wrong, at -n NP: a save killed before its manifest shows as
# incomplete and never becomes latest (restore latest gives the previous one); a part whose
# bytes do not match the manifest's CRC-32C is named and nothing is published; missing names,
# bad names, an existing name, deleting the latest; --keep-last keeps exactly K.
#   it_checkpoint_faults.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
B=it-ckptf-np$NP-$$-$RANDOM
U=s3://$B/ck
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }
# expect_run NAME CODE REGEX -- CMD...: as expect, for mpirun: its own banner aside, one line
expect_run() {
  local name=$1 code=$2 regex=$3 rc=0; shift 4
  "$@" >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
  grep '^s3dlio-mpi: ' "$WORK/stderr" >"$WORK/ours"
  if [ "$rc" != "$code" ]; then
    bad "$name: exit $rc, want $code; stderr: $(head -c 600 "$WORK/stderr")"
  elif [ "$(wc -l <"$WORK/ours")" != 1 ] || ! grep -Eq -- "$regex" "$WORK/ours"; then
    bad "$name: want one line matching /$regex/: $(head -c 600 "$WORK/ours")"
  else
    ok
  fi
}
complete_names() { "$CLI" checkpoint list "$U" | awk '$0 ~ / complete / { print ($1 == "*" ? $2 : $1) }' | sort | tr '\n' ' '; }

"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
mkdir -p "$WORK/a/sub"
make_file "$WORK/a/big.bin" $((20 * 1024 * 1024 + 123))
make_file "$WORK/a/sub/small" 5000
check "save c1" run checkpoint save -q "$WORK/a" "$U" --name c1

# 1. a save killed before its manifest: rank processes die while parts are in flight (the
# proxy holds the answers to the part uploads), mpirun ends the job
make_file "$WORK/a/big.bin" $((20 * 1024 * 1024 + 123)) # new contents: c2 differs from c1
URL=$(proxy_start stall --only PUT --only-path-regex 'uploadId' --stall-every 1 --stall-seconds 120) ||
  { echo "cannot start the fault proxy" >&2; exit 1; }
"$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" --endpoint-url "$URL" checkpoint save -q "$WORK/a" "$U" \
  --name c2 >"$WORK/killed.out" 2>&1 &
mpirun_pid=$!
for _ in $(seq 100); do
  [ "$(proxy_stat stall 'd["faults"]["stall"]' 2>/dev/null || echo 0)" -ge 1 ] && break
  sleep 0.2
done
ranks=$(ps -o pid= --ppid "$mpirun_pid" | tr -d ' ')
[ -n "$ranks" ] && ok || bad "the save's ranks were found"
for p in $ranks; do kill -KILL "$p" 2>/dev/null; done
wait "$mpirun_pid" && bad "a killed save exits non-zero" || ok
proxy_stop stall
"$CLI" checkpoint list "$U" >"$WORK/list1" 2>&1
grep -Eq '^ +c2 +incomplete ' "$WORK/list1" && ok || bad "the killed save shows incomplete: $(cat "$WORK/list1")"
grep -Eq '^\* c1 +complete ' "$WORK/list1" && ok || bad "c1 is still latest: $(cat "$WORK/list1")"
check "restore latest after the killed save" run checkpoint restore -q "$U" --to "dir:$WORK/r1"
cmp -s "$WORK/r1/big.bin" "$WORK/a/big.bin" && bad "restore latest gave the killed save's bytes" || ok
[ "$(stat -c %s "$WORK/r1/big.bin")" = $((20 * 1024 * 1024 + 123)) ] && ok || bad "restored c1"
expect_run "restore of the incomplete one" 1 "c2/'.*incomplete: it has no manifest" -- \
  run checkpoint restore "$U" --name c2 --to "dir:$WORK/r2"
[ ! -e "$WORK/r2/big.bin" ] && ok || bad "nothing restored from an incomplete checkpoint"

# 2. a part whose checksum does not match: named, nothing published, the old file untouched
"$CLI" get -q "$U/c1/manifest.json" "$WORK/manifest.json"
python3 - "$WORK/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
f = next(f for f in m["files"] if f["path"] == "big.bin")
f["crc32c"][1] = "%08x" % (int(f["crc32c"][1], 16) ^ 1)
json.dump(m, open(sys.argv[1], "w"))
EOF
"$CLI" put -q "$WORK/manifest.json" "$U/c1/manifest.json"
mkdir -p "$WORK/r3"
echo previous >"$WORK/r3/big.bin"
expect_run "a corrupted part is named" 1 "1 of [0-9]+ transfers failed; first: .*'big.bin' part 2 of 3 \(bytes 8388608-16777215\): CRC-32C [0-9a-f]{8}, the manifest says" -- \
  run checkpoint restore -q "$U" --name c1 --to "dir:$WORK/r3"
[ "$(cat "$WORK/r3/big.bin")" = previous ] && ok || bad "the file already there is untouched"
[ ! -e "$WORK/r3/sub/small" ] && ok || bad "no file of the failed restore is published"
[ -z "$(find "$WORK/r3" -name '.*s3dlio-tmp*')" ] && ok || bad "no temporary file is left"
# the same check in memory
expect_run "a corrupted part, to memory" 1 "integrity.*CRC-32C" -- run checkpoint restore -q "$U" --name c1 --to mem

# 3. names: missing, bad, taken; the latest is never deleted (one process: no rank count matters)
expect "missing name" 1 "c9/'.*: no such checkpoint" -- "$CLI" checkpoint restore "$U" --name c9 --to mem
expect "no latest" 1 "elsewhere': not found: .*no latest checkpoint here" -- "$CLI" checkpoint restore "s3://$B/elsewhere" --to mem
expect "name with a slash" 2 "not a checkpoint name: it contains '/'" -- \
  "$CLI" checkpoint save "$WORK/a" "$U" --name a/b
expect "the name latest" 2 "not a checkpoint name: 'latest'" -- "$CLI" checkpoint save "$WORK/a" "$U" --name latest
expect "a taken name" 2 "c1/'.*a checkpoint of that name exists" -- "$CLI" checkpoint save "$WORK/a" "$U" --name c1
expect "delete the latest" 2 "it is the latest checkpoint" -- "$CLI" checkpoint delete "$U" c1
expect "missing source" 1 "cannot read the source" -- "$CLI" checkpoint save "$WORK/nope" "$U" --name c8

# 4. --keep-last K: exactly K complete ones stay (the newest), incomplete ones are left alone
make_file "$WORK/t" 1000
# created in the same second, the newer name wins the tie (c3 < c4 < c5)
for c in c3 c4; do check "save $c" run checkpoint save -q "$WORK/t" "$U" --name "$c"; done
check "save c5 --keep-last 2" run checkpoint save -q "$WORK/t" "$U" --name c5 --keep-last 2
[ "$(complete_names)" = "c4 c5 " ] && ok || bad "--keep-last 2 keeps c4 c5, not: $(complete_names)"
"$CLI" checkpoint list "$U" | grep -Eq '^ +c2 +incomplete' && ok || bad "the incomplete one is left alone"
check "delete c4" "$CLI" checkpoint delete -q "$U" c4
[ "$(complete_names)" = "c5 " ] && ok || bad "after delete c4: $(complete_names)"
[ -z "$("$CLI" ls -r "$U/c4/")" ] && ok || bad "c4's objects are gone"

# 5. an HDF5 file that does not open (saved cut short) is refused before it is published
if /usr/bin/python3 -c 'import h5py' 2>/dev/null; then
  mkdir -p "$WORK/h5"
  /usr/bin/python3 -c 'import h5py, numpy as np, sys; h5py.File(sys.argv[1], "w").create_dataset("x", data=np.arange(200000))' "$WORK/whole.h5"
  head -c $(($(stat -c %s "$WORK/whole.h5") / 2)) "$WORK/whole.h5" >"$WORK/h5/cut.h5"
  check "save a cut HDF5 file" run checkpoint save -q "$WORK/h5" "$U" --name h5cut
  expect_run "a cut HDF5 file is refused" 1 "cut.h5.*HDF5 cannot open it" -- \
    run checkpoint restore -q "$U" --name h5cut --to "dir:$WORK/h5r"
  [ ! -e "$WORK/h5r/cut.h5" ] && ok || bad "the file HDF5 cannot open is not published"
fi

"$CLI" rm -q -r "s3://$B/" >/dev/null 2>&1
"$CLI" rb -q "s3://$B" >/dev/null 2>&1
finish

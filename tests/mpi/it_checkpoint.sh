#!/usr/bin/env bash
# checkpoint save at -n NP (a 300 MiB HDF5 file written by h5py plus a directory of small
# files) and restore at -n 1, 2 and 3: byte for byte equal, the restored HDF5 file opens and
# reads; every file is a plain object any S3 client can fetch; list shows it complete and
# latest; --to mem restores too.
#   it_checkpoint.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
B=it-ckpt-np$NP-$$-$RANDOM
MIB=${CKPT_H5_MIB:-300}
# Debian's interpreter: h5py comes from the python3-h5py package
PY=/usr/bin/python3
$PY -c 'import h5py' 2>/dev/null || { echo "python3-h5py is not installed (scripts/install-deps)"; exit 77; }
run() { local n=$1; shift; "$MPIEXEC" -n "$n" "${PRE[@]}" "$CLI" "$@"; }

"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
SRC=$WORK/src
mkdir -p "$SRC/opt/rank-0000" "$SRC/opt/rank-0001" "$SRC/empty-dir-is-skipped"
# the application's checkpoint: one HDF5 file, a dataset of random floats and an attribute
$PY - "$SRC/model.h5" "$MIB" <<'EOF' || { echo "h5py could not write the file" >&2; exit 1; }
import sys, h5py, numpy as np
path, mib = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(7)
with h5py.File(path, "w") as f:
    d = f.create_dataset("weights", data=rng.random(mib * (1 << 20) // 8))
    d.attrs["step"] = 1234
    f.create_dataset("bias", data=np.arange(1000, dtype="i4"))
EOF
for i in 0 1 2 3 4 5 6; do make_file "$SRC/opt/rank-000$((i % 2))/state-$i.pt" $((i * 70001 + 1)); done
: >"$SRC/opt/empty.txt"
printf 'x' >"$SRC/opt/one byte é"

# 1. save at NP ranks
run "$NP" checkpoint save -q "$SRC" "s3://$B/ckpt" --name step-1234 >"$WORK/save.out" 2>&1 &&
  ok || bad "save at -n $NP: $(tail -5 "$WORK/save.out")"
"$CLI" checkpoint list "s3://$B/ckpt" >"$WORK/list" 2>&1
grep -Eq '^\* step-1234 +complete +10 ' "$WORK/list" && ok || bad "list: $(cat "$WORK/list")"
grep -Eq " $NP\$" "$WORK/list" && ok || bad "list shows the world size $NP: $(cat "$WORK/list")"
# a plain object: any client gets the file back whole
"$CLI" get -q "s3://$B/ckpt/step-1234/files/model.h5" "$WORK/fetched.h5" &&
  same_file "$WORK/fetched.h5" "$SRC/model.h5" && ok || bad "the object is the file, byte for byte"
rm -f "$WORK/fetched.h5"
# its ETag is a multipart one: the large file went as one upload of many parts
"$CLI" stat "s3://$B/ckpt/step-1234/files/model.h5" | grep -Eq -- '-[0-9]+' && ok ||
  bad "model.h5 was uploaded as a multipart upload: $("$CLI" stat "s3://$B/ckpt/step-1234/files/model.h5")"

# 2. restore at 1, 2 and 3 ranks: the same bytes; the HDF5 file opens and reads
for n in 1 2 3; do
  out=$WORK/restore-$n
  run "$n" checkpoint restore -q "s3://$B/ckpt" --to "dir:$out" >"$WORK/r$n.out" 2>&1 &&
    ok || bad "restore at -n $n: $(tail -5 "$WORK/r$n.out")"
  diff -r "$SRC" "$out" >"$WORK/diff$n" 2>&1
  # the empty directory is not a file: it is not saved (and diff says only that)
  [ "$(grep -vc 'Only in .*: empty-dir-is-skipped' "$WORK/diff$n")" = 0 ] && ok ||
    bad "restore at -n $n differs: $(head -5 "$WORK/diff$n")"
  $PY - "$out/model.h5" <<'EOF' >"$WORK/h5-$n" 2>&1 && ok || bad "restored HDF5 at -n $n: $(cat "$WORK/h5-$n")"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    assert f["weights"].attrs["step"] == 1234
    assert (f["bias"][:] == np.arange(1000)).all()
    f["weights"][-10:]
EOF
  find "$out" -name '.*s3dlio-tmp*' | grep -q . && bad "temporary files left under $out" || ok
  rm -rf "$out"
done

# 3. by name, into a directory holding older files: they are replaced
mkdir -p "$WORK/again/opt"
echo old >"$WORK/again/model.h5"
echo keep >"$WORK/again/unrelated"
run 2 checkpoint restore -q "s3://$B/ckpt" --name step-1234 --to "dir:$WORK/again" >"$WORK/again.out" 2>&1 &&
  ok || bad "restore by name: $(tail -5 "$WORK/again.out")"
same_file "$WORK/again/model.h5" "$SRC/model.h5" && ok || bad "an older file is replaced"
[ "$(cat "$WORK/again/unrelated")" = keep ] && ok || bad "files of the directory not in the checkpoint stay"
rm -rf "$WORK/again"

# 4. to memory, with the report
run 2 checkpoint restore "s3://$B/ckpt" --to mem --report "$WORK/mem.json" >"$WORK/mem.out" 2>&1 &&
  ok || bad "restore to mem: $(tail -5 "$WORK/mem.out")"
total=$(du -cb "$SRC"/model.h5 "$SRC"/opt/*/* "$SRC"/opt/*.txt "$SRC/opt/one byte é" | tail -1 | cut -f1)
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["totals"]["bytes"] == int(sys.argv[2]) and d["command"] == "checkpoint restore" else 1)' \
  "$WORK/mem.json" "$total" && ok || bad "report: bytes $total, command 'checkpoint restore': $(head -c 400 "$WORK/mem.json")"
grep -q 'step-1234' "$WORK/mem.json" && ok || bad "the report names the checkpoint"

"$CLI" rm -q -r "s3://$B/" >/dev/null 2>&1
"$CLI" rb -q "s3://$B" >/dev/null 2>&1
finish

#!/usr/bin/env bash
# mpirun -n NP s3dlio-mpi stage --to h5:PATH against the real server: objects of 0 bytes,
# 1 byte and several MiB (fetched as ranged parts that arrive out of order), keys with
# spaces and UTF-8; every object compared byte for byte through `h5 get` and through HDF5's
# own tools (h5dump; h5py too where installed); `h5 verify` passes, and names the key of a
# flipped byte with exit 1. At -n 2 also: a failed object, SIGTERM to mpirun and SIGKILL of
# one rank leave nothing at PATH, and a file already there as it was; --steal; a file://
# source; usage and reader errors.
#   it_h5_stage.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
if ! command -v h5dump >/dev/null; then
  echo "SKIP: h5dump not installed (Debian package hdf5-tools; scripts/install-deps)" >&2
  exit 77
fi
PY=
for p in python3 /usr/bin/python3; do
  "$p" -c 'import h5py' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || echo "note: no python3 with h5py (Debian package python3-h5py): h5dump checks only" >&2
B=it-h5-np$NP-$$-$RANDOM
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }
# ranged GETs of 5 MiB parts from 1 MiB up, 4 in flight: parts of one object interleave
SMALL_PARTS=(--range-threshold 1MiB --part-size 5MiB --get-concurrency 4)

# ---- the source: a local tree uploaded under src/ ------------------------------------------
SRC=$WORK/src
mkdir -p "$SRC/dir with space" "$SRC/ünïcødé"
: >"$SRC/empty"
head -c 1 /dev/urandom >"$SRC/one"
head -c $((12 * 1024 * 1024 + 3)) /dev/urandom >"$SRC/big"
head -c $((6 * 1024 * 1024)) /dev/urandom >"$SRC/dir with space/six mib"
head -c 5000 /dev/urandom >"$SRC/ünïcødé/ключ ü.bin"
for i in 1 2 3 4 5 6 7 8; do head -c $((i * 777)) /dev/urandom >"$SRC/small-$i"; done
N=$(find "$SRC" -type f | wc -l)
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
"$CLI" put -q -r "$SRC" "s3://$B/src/" || { echo "upload failed" >&2; exit 1; }

# compare FILE.h5 PREFIX: every source file, by `h5 get` and by h5dump at the offset ls -l gives
compare() {
  local h5=$1 prefix=$2 bad_get=0 bad_dump=0 rel size off
  "$CLI" h5 ls -l "$h5" >"$WORK/ls-l"
  while IFS= read -r -d '' f; do
    rel=${f#"$SRC/"}
    "$CLI" h5 get "$h5" "$prefix$rel" "$WORK/got" && cmp -s "$WORK/got" "$f" || bad_get=$((bad_get + 1))
    size=$(stat -c %s "$f")
    [ "$size" = 0 ] && continue
    off=$(awk -v k="$prefix$rel" '{ key = $0; for (i = 0; i < 5; i++) sub(/^ *[^ ]+ +/, "", key) } key == k { print $4 }' "$WORK/ls-l")
    rm -f "$WORK/dump"
    h5dump -d /data -s "$off" -c "$size" -b LE -o "$WORK/dump" "$h5" >/dev/null 2>&1 &&
      cmp -s "$WORK/dump" "$f" || bad_dump=$((bad_dump + 1))
  done < <(find "$SRC" -type f -print0)
  [ "$bad_get" = 0 ] && ok || bad "$h5: $bad_get objects differ through h5 get"
  [ "$bad_dump" = 0 ] && ok || bad "$h5: $bad_dump objects differ through h5dump"
  if [ -n "$PY" ]; then
    "$PY" - "$h5" "$SRC" "$prefix" "$NP" >"$WORK/py.out" 2>&1 <<'EOF' && ok || bad "h5py check: $(tail -3 "$WORK/py.out")"
import h5py, os, sys
path, src, prefix, np_ = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
f = h5py.File(path, "r")
a = f.attrs
assert a["format"] == b"s3dlio-mpi/h5-stage", a["format"]
assert a["version"] == 1 and a["complete"] == 1 and a["world_size"] == np_
idx, data = f["index"][...], f["data"]
keys = [bytes(k) for k in idx["key"]]
assert keys == sorted(keys) and len(set(keys)) == len(keys), "index sorted by key bytes"
assert len(keys) == a["objects"] and sum(int(s) for s in idx["size"]) == a["bytes"]
seen = 0
for row in idx:
    rel = bytes(row["key"]).decode()[len(prefix):]
    want = open(os.path.join(src, rel), "rb").read()
    got = data[int(row["offset"]):int(row["offset"]) + int(row["size"])].tobytes()
    assert got == want, rel
    seen += 1
assert seen == sum(len(fs) for _, _, fs in os.walk(src))
EOF
  fi
}

# ---- 1. stage to h5, every object byte for byte --------------------------------------------
H5=$WORK/staged.h5
run stage -q --to "h5:$H5" "${SMALL_PARTS[@]}" --report "$WORK/r1.json" "s3://$B/src/" \
  >"$WORK/s1.out" 2>&1 && ok || bad "stage to h5: $(tail -5 "$WORK/s1.out")"
[ "$("$CLI" h5 ls "$H5" | wc -l)" = "$N" ] && ok || bad "$N keys in h5 ls"
compare "$H5" src/
"$CLI" h5 verify "$H5" >"$WORK/v.out" 2>&1 && grep -q "$N objects" "$WORK/v.out" && ok ||
  bad "h5 verify: $(cat "$WORK/v.out")"
[ -z "$(find "$WORK" -maxdepth 1 -name '*s3dlio-tmp*')" ] && ok || bad "temporary file left"

# a flipped byte in /data of a copy: verify names that key and exits 1
cp "$H5" "$WORK/flipped.h5"
base=$(h5dump -p -H -d /data "$WORK/flipped.h5" | awk '/OFFSET/ { print $2; exit }')
off=$("$CLI" h5 ls -l "$H5" | awk '$NF == "src/big" { print $4 }')
if [ -n "$base" ] && [ -n "$off" ]; then
  at=$((base + off + 4 * 1024 * 1024 + 17))
  byte=$(od -An -tu1 -j "$at" -N1 "$WORK/flipped.h5" | tr -d ' ')
  printf "\\$(printf '%03o' $(((byte + 1) % 256)))" |
    dd of="$WORK/flipped.h5" bs=1 seek="$at" conv=notrunc status=none
  expect "verify a flipped byte" 1 "h5 verify .*first 'src/big'" -- "$CLI" h5 verify "$WORK/flipped.h5"
else
  bad "no /data offset from h5dump -p ($base) or h5 ls -l ($off)"
fi

# The rest does not depend on the world size beyond what -n 2 shows (two ranks, one killed):
# run once, at -n 2, to keep CI short
if [ "$NP" != 2 ]; then
  "$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
  finish
  exit
fi

# ---- 2. --steal and file:// sources ----------------------------------------------------------
run stage -q --steal --steal-chunk 2 --to "h5:$WORK/steal.h5" "${SMALL_PARTS[@]}" \
  --report "$WORK/r2.json" "s3://$B/src/" >"$WORK/s2.out" 2>&1 && ok ||
  bad "stage --steal to h5: $(tail -5 "$WORK/s2.out")"
"$CLI" h5 verify -q "$WORK/steal.h5" && ok || bad "verify the --steal file"
"$CLI" h5 get "$WORK/steal.h5" "src/big" - | cmp -s - "$SRC/big" && ok || bad "h5 get - of --steal"
run stage -q --to "h5:$WORK/local.h5" --report "$WORK/r3.json" "file://$SRC/" \
  >"$WORK/s3.out" 2>&1 && ok || bad "stage file:// to h5: $(tail -5 "$WORK/s3.out")"
"$CLI" h5 verify -q "$WORK/local.h5" && ok || bad "verify the file:// file"
compare "$WORK/local.h5" "${SRC#/}/"

# ---- 3. usage and reader errors: one line, the right exit code -------------------------------
expect "directory missing" 2 "does not exist" -- "$CLI" stage -q --to "h5:$WORK/no/such/x.h5" "s3://$B/src/"
expect "get a missing key" 1 "no key 'nope'" -- "$CLI" h5 get "$H5" nope "$WORK/nope"
[ ! -e "$WORK/nope" ] && ok || bad "get of a missing key created its DEST"
echo "plain text" >"$WORK/text.h5"
expect "not HDF5" 1 "text.h5'.*not an HDF5 file" -- "$CLI" h5 ls "$WORK/text.h5"
expect "h5 usage" 2 "expected ls PATH" -- "$CLI" h5 get "$H5"

# ---- 4. a failed object: nothing published, the old file untouched ------------------------
"$CLI" put -q --generate --count 4 --seed 5 "s3://$B/fail/" || bad "setup fail/"
OLD=$WORK/old.h5
echo "previous contents" >"$OLD"
cp "$OLD" "$WORK/old.copy"
deny=$(proxy_start deny --status-every 1 --status 403 --status-s3code AccessDenied --only GET \
  --only-path-regex 'obj-00000002') || bad "proxy did not start"
run stage -q --endpoint-url "$deny" --to "h5:$OLD" --report "$WORK/r4.json" "s3://$B/fail/" \
  >"$WORK/s4.out" 2>&1
rc=$?
[ "$rc" = 1 ] && ok || bad "exit $rc after a failed object: $(tail -3 "$WORK/s4.out")"
cmp -s "$OLD" "$WORK/old.copy" && ok || bad "the file at PATH changed after a failed stage"
run stage -q --endpoint-url "$deny" --to "h5:$WORK/new.h5" --report "$WORK/r5.json" \
  "s3://$B/fail/" >/dev/null 2>&1
proxy_stop deny
[ ! -e "$WORK/new.h5" ] && ok || bad "a failed stage left a file at PATH"
[ -z "$(find "$WORK" -maxdepth 1 -name '*s3dlio-tmp*')" ] && ok || bad "a failed stage left its temporary file"

# ---- 5. interrupted: SIGTERM to mpirun, SIGKILL of one rank -------------------------------
slow=$(proxy_start slow --delay-ms 1000 --only GET --only-path-regex 'obj-') || bad "proxy did not start"
# wait_tmp: until the temporary file exists (the stage is past listing and creating the file)
wait_tmp() {
  for _ in $(seq 1 300); do
    [ -n "$(find "$WORK" -maxdepth 1 -name 'old.h5.s3dlio-tmp*')" ] && return 0
    sleep 0.05
  done
  return 1
}
"$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" stage -q --endpoint-url "$slow" --to "h5:$OLD" \
  --report "$WORK/r6.json" "s3://$B/fail/" >"$WORK/s6.out" 2>&1 &
pid=$!
wait_tmp && ok || bad "no temporary file appeared: $(tail -3 "$WORK/s6.out")"
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" != 0 ] && ok || bad "a stage stopped by SIGTERM exited 0"
cmp -s "$OLD" "$WORK/old.copy" && ok || bad "the file at PATH changed after SIGTERM"
[ -z "$(find "$WORK" -maxdepth 1 -name '*s3dlio-tmp*')" ] && ok || bad "SIGTERM left the temporary file"
if [ "$NP" -gt 1 ]; then
  "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" stage -q --endpoint-url "$slow" --to "h5:$OLD" \
    --report "$WORK/r7.json" "s3://$B/fail/" >"$WORK/s7.out" 2>&1 &
  pid=$!
  wait_tmp && ok || bad "no temporary file appeared (kill): $(tail -3 "$WORK/s7.out")"
  victim=$(pgrep -P "$pid" | tail -1)
  [ -n "$victim" ] && kill -KILL "$victim"
  wait "$pid"
  rc=$?
  [ "$rc" != 0 ] && ok || bad "a stage with a killed rank exited 0"
  cmp -s "$OLD" "$WORK/old.copy" && ok || bad "the file at PATH changed after a rank was killed"
  # a killed rank cannot clean up: its temporary file may stay beside PATH, never at it
  rm -f "$WORK"/old.h5.s3dlio-tmp*
fi
proxy_stop slow

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish

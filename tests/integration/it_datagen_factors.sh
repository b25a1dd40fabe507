#!/usr/bin/env bash
# The generator's dedup and compress factors as outside tools see them. A ~64 MiB dataset
# of 2-8 MiB objects (gen_dump --count) must give, for N in 1 2 4 8, within 10% of N:
#   --dedup N     total / distinct 4 KiB blocks (each object cut at 0, 4096, ...; python3)
#   --compress N  size / compressed size with gzip -6, and zstd -3 when zstd is installed
# and dedup must not turn into deflate compression (copies sit beyond its 32 KiB window).
# Needs only local tools; no server. Usage: it_datagen_factors.sh <gen_dump binary>
set -uo pipefail
GEN=${1:?usage: it_datagen_factors.sh <gen_dump binary>}
PASSED=0
FAILED=0
WORK=$(mktemp -d -t s3dlio-gen.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

ok() { PASSED=$((PASSED + 1)); }
bad() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }

# 13 objects of 2-8 MiB: about 64 MiB (the sizes are a pure function of the seed)
SET=(--seed 42 --count 13 --prefix train/shard- --min 2MiB --max 8MiB)

# near NAME GOT WANT: |GOT - WANT| <= 10% of WANT
near() {
  if awk -v g="$2" -v w="$3" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= 0.10 * w) }'; then
    ok
    echo "ok: $1: $2 (want $3)"
  else
    bad "$1: $2, want $3 within 10%"
  fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
gzip_ratio() { ratio "$total" "$(gzip -6 -c "$1" | wc -c)"; }
zstd_ratio() { ratio "$total" "$(zstd -3 -q -c "$1" | wc -c)"; }

# dedup_ratio DATA: total / distinct blocks, each object of $WORK/list on its own 4 KiB grid
dedup_ratio() {
  python3 - "$WORK/list" "$1" <<'EOF'
import hashlib, sys
sizes = [int(line.split()[1]) for line in open(sys.argv[1])]
total, seen = 0, set()
with open(sys.argv[2], "rb") as f:
    for size in sizes:
        for off in range(0, size, 4096):
            seen.add(hashlib.sha1(f.read(min(4096, size - off))).digest())
            total += 1
print("%.3f" % (total / len(seen)))
EOF
}

"$GEN" "${SET[@]}" --list >"$WORK/list" || { echo "gen_dump --list failed" >&2; exit 1; }
total=$(awk '{ s += $2 } END { print s }' "$WORK/list")
echo "dataset: $(wc -l <"$WORK/list") objects, $total bytes"

have_zstd=1
command -v zstd >/dev/null ||
  { have_zstd=0; echo "zstd not installed: zstd checks skipped (Debian package zstd)"; }
have_py=1
command -v python3 >/dev/null || { have_py=0; echo "python3 not installed: dedup checks skipped"; }

for n in 1 2 4 8; do
  "$GEN" "${SET[@]}" --dedup "$n" >"$WORK/d" || bad "gen_dump --dedup $n"
  [ "$(stat -c %s "$WORK/d")" = "$total" ] && ok || bad "dedup $n: size differs from --list"
  [ $have_py = 1 ] && near "dedup $n: blocks/distinct" "$(dedup_ratio "$WORK/d")" "$n"
  near "dedup $n: gzip -6 sees no dedup" "$(gzip_ratio "$WORK/d")" 1

  "$GEN" "${SET[@]}" --compress "$n" >"$WORK/c" || bad "gen_dump --compress $n"
  near "compress $n: gzip -6" "$(gzip_ratio "$WORK/c")" "$n"
  [ $have_zstd = 1 ] && near "compress $n: zstd -3" "$(zstd_ratio "$WORK/c")" "$n"
done

# both at once: each factor holds on its own
"$GEN" "${SET[@]}" --dedup 4 --compress 2 >"$WORK/dc" || bad "gen_dump --dedup 4 --compress 2"
[ $have_py = 1 ] && near "dedup 4 + compress 2: blocks/distinct" "$(dedup_ratio "$WORK/dc")" 4
near "dedup 4 + compress 2: gzip -6" "$(gzip_ratio "$WORK/dc")" 2

# object 3 written alone equals its place in the --count dump (sizes and keys agree)
read -r key3 size3 < <(sed -n 4p "$WORK/list")
skip=$(head -3 "$WORK/list" | awk '{ s += $2 } END { print s }')
"$GEN" "${SET[@]}" >"$WORK/all" && "$GEN" --seed 42 --key "$key3" --size "$size3" >"$WORK/one" &&
  [ "$(stat -c %s "$WORK/one")" = "$size3" ] &&
  cmp -s -i "$skip:0" -n "$size3" "$WORK/all" "$WORK/one" && ok ||
  bad "object 3 alone differs from the dataset dump"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]

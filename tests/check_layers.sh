#!/usr/bin/env bash
# tests/check_layers.sh [ROOT] - the layer and banned-call check (STYLE.md §1, §11; CTest label unit).
#
# Scans the C sources under ROOT/src, ROOT/apps and ROOT/include (ROOT defaults to the repository
# this script lives in), with comments and string literals blanked out, and fails (exit 1, one
# "file:line: rule: code" line per finding) on:
#   - <mpi.h> / <hdf5.h> (and other MPI or HDF5 headers) outside src/coord/, src/h5/ (the HDF5
#     stage destination and reader, coordination code of its own), src/ckpt/ (checkpoints, built
#     on coord) and apps/; the public include/s3dlio/coord.h and checkpoint.h may include
#     <mpi.h>, since their functions take an MPI_Comm
#   - <curl/...> headers outside src/s3/ and src/backend/be_s3.c
#   - in src/: exit( abort( (abort only in src/util/alloc.c), printf( puts( (only in
#     src/stats/report.c and src/util/log.c), atoi( strtok( sprintf( vsprintf( strcpy(,
#     and MPI_COMM_WORLD (snprintf, vsnprintf, fprintf, fputs, strtok_r are fine)
#   - includes that point up the layers (apps -> coord -> xfer/stats -> backend -> s3/util):
#     src/util: none of s3/ backend/ xfer/ stats/ coord/     src/s3: none of backend/ xfer/ stats/ coord/
#     src/backend: none of xfer/ stats/ coord/              src/xfer: none of s3/ coord/
#     src/stats: none of s3/ backend/ xfer/ coord/
#     ("s3dlio/backend.h" is the public header in include/, not backend/, so it is allowed anywhere)
# tests/ is not scanned: MPI tests need <mpi.h>, and tests may use libcurl as an independent client.
# Exit: 0 clean, 1 violations, 2 usage (ROOT has no src/).
set -euo pipefail
export AWS_EC2_METADATA_DISABLED=true  # house rule for every script; this one uses no network

ROOT=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
if [ ! -d "$ROOT/src" ]; then
  echo "check_layers: '$ROOT' has no src/ directory (usage: tests/check_layers.sh [ROOT])" >&2
  exit 2
fi
cd "$ROOT"

# Every line of every source as "I<TAB>file<TAB>line<TAB>target" for an #include and
# "C<TAB>file<TAB>line<TAB>code" otherwise, where code has comments and the contents of string
# and character literals removed (so a comment saying "never calls exit()" is no finding).
# shellcheck disable=SC2016  # the single quotes hold an awk program
scan() {
  local dirs=() d
  for d in src apps include; do [ -d "$d" ] && dirs+=("$d"); done
  find "${dirs[@]}" -type f \( -name '*.c' -o -name '*.h' \) -print0 | LC_ALL=C sort -z |
    xargs -0 -r awk '
      FNR == 1 { incomment = 0 }
      {
        raw = $0; out = ""; i = 1; n = length(raw)
        while (i <= n) {
          if (incomment) {
            j = index(substr(raw, i), "*/")
            if (j == 0) { i = n + 1; break }
            i += j + 1; incomment = 0; out = out " "; continue
          }
          c = substr(raw, i, 1); c2 = substr(raw, i, 2)
          if (c2 == "/*") { incomment = 1; i += 2; continue }
          if (c2 == "//") break
          if (c == "\"" || c == "\047") {
            q = c; i++
            while (i <= n) {
              c = substr(raw, i, 1)
              if (c == "\\") { i += 2; continue }
              if (c == q) break
              i++
            }
            out = out q q; i++; continue
          }
          out = out c; i++
        }
        gsub(/\t/, " ", out)
        if (out ~ /^[ \t]*#[ \t]*include/ && match(raw, /[<"][^<>"]*[>"]/))
          printf "I\t%s\t%d\t%s\n", FILENAME, FNR, substr(raw, RSTART, RLENGTH)
        else if (out ~ /[^ \t]/)
          printf "C\t%s\t%d\t%s\n", FILENAME, FNR, out
      }'
}

RECORDS=$(mktemp "${TMPDIR:-/tmp}/check_layers.XXXXXX")
trap 'rm -f "$RECORDS"' EXIT
scan >"$RECORDS"

FINDINGS=()
report() { # report FILE LINE RULE TEXT
  FINDINGS+=("$(printf '%s:%s: %s: %s' "$1" "$2" "$3" "$4")")
}

# The helpers below set a variable instead of printing, to spare a fork per include line.
# layer_of FILE -> FROM: the layer of a src/ file (util s3 backend xfer stats coord), or empty
layer_of() {
  FROM=
  case $1 in src/*/*) FROM=${1#src/}; FROM=${FROM%%/*} ;; esac
}
# target_layer TARGET -> TO: the layer an include names: "util/x.h", "../util/x.h", "src/util/x.h"
target_layer() {
  local t=${1:1:${#1}-2}
  TO=
  while [ "${t#../}" != "$t" ]; do t=${t#../}; done
  t=${t#src/}
  case $t in util/* | s3/* | backend/* | xfer/* | stats/* | coord/*) TO=${t%%/*} ;; esac
}
# banned_layers LAYER -> BANNED: the layers LAYER must not include
banned_layers() {
  case $1 in
    util) BANNED="s3 backend xfer stats coord" ;;
    s3) BANNED="backend xfer stats coord" ;;
    backend) BANNED="xfer stats coord" ;;
    # the engine reaches S3 only through the backend interface: no SigV4, no HTTP client
    xfer) BANNED="s3 coord" ;;
    stats) BANNED="s3 backend xfer coord" ;;
    *) BANNED= ;;
  esac
}

# ---- includes --------------------------------------------------------------------------
while IFS=$'\t' read -r kind f ln target; do
  [ "$kind" = I ] || continue
  case $target in
    [\<\"]mpi.h[\>\"] | [\<\"]mpio.h[\>\"] | [\<\"]mpi-ext.h[\>\"] | [\<\"]mpi_*.h[\>\"])
      case $f in
        src/coord/* | src/h5/* | src/ckpt/* | apps/* | include/s3dlio/coord.h | include/s3dlio/checkpoint.h) ;;
        *) report "$f" "$ln" "MPI header outside src/coord/ and apps/" "#include $target" ;;
      esac ;;
    [\<\"]hdf5*.h[\>\"] | [\<\"]H5*.h[\>\"])
      case $f in
        src/coord/* | src/h5/* | src/ckpt/* | apps/*) ;;
        *) report "$f" "$ln" "HDF5 header outside src/coord/ and apps/" "#include $target" ;;
      esac ;;
    [\<\"]curl/*)
      case $f in
        src/s3/* | src/backend/be_s3.c) ;;
        *) report "$f" "$ln" "libcurl header outside src/s3/ and src/backend/be_s3.c" "#include $target" ;;
      esac ;;
  esac
  layer_of "$f"
  [ -n "$FROM" ] || continue
  target_layer "$target"
  [ -n "$TO" ] || continue
  banned_layers "$FROM"
  for bad in $BANNED; do
    if [ "$TO" = "$bad" ]; then
      report "$f" "$ln" "src/$FROM must not include $bad/ (dependencies point down)" "#include $target"
    fi
  done
done <"$RECORDS"

# ---- banned calls in src/ ----------------------------------------------------------------
# ident( with no identifier character, '.' or '>' before it: matches "exit (" but not
# "atexit(", "_exit(", "snprintf(", "ops->exit(" or "s.puts("
banned() { # banned NAME ALLOWED_FILE...
  local name=$1 f ln code
  shift
  while IFS=$'\t' read -r f ln code; do
    local ok=0 a
    for a in "$@"; do [ "$f" = "$a" ] && ok=1; done
    [ $ok = 1 ] || report "$f" "$ln" "banned in src/: $name(" "$code"
  done < <(awk -F'\t' -v re="(^|[^A-Za-z0-9_.>])${name}[ \t]*[(]" \
    '$1 == "C" && $2 ~ /^src\// && $4 ~ re { print $2 "\t" $3 "\t" $4 }' "$RECORDS")
}
banned exit
banned abort src/util/alloc.c
banned printf src/stats/report.c src/util/log.c
banned puts src/stats/report.c src/util/log.c
banned atoi
banned strtok
banned sprintf
banned vsprintf
banned strcpy
while IFS=$'\t' read -r f ln code; do
  report "$f" "$ln" "banned in src/: MPI_COMM_WORLD (take the communicator as an argument)" "$code"
done < <(awk -F'\t' '$1 == "C" && $2 ~ /^src\// && $4 ~ /(^|[^A-Za-z0-9_])MPI_COMM_WORLD([^A-Za-z0-9_]|$)/ { print $2 "\t" $3 "\t" $4 }' "$RECORDS")

if [ ${#FINDINGS[@]} -gt 0 ]; then
  printf '%s\n' "${FINDINGS[@]}" | LC_ALL=C sort -t: -k1,1 -k2,2n
  echo "check_layers: ${#FINDINGS[@]} violation(s) (STYLE.md §1 and §11)" >&2
  exit 1
fi
echo "check_layers: ok ($(cut -f2 "$RECORDS" | sort -u | wc -l) files)"

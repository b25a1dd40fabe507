# Shared helpers of the shell integration tests (sourced). Each check prints a line on
# failure; finish prints "N passed, M failed" and sets the exit code.
export AWS_EC2_METADATA_DISABLED=true
CLI=${S3DLIO_CLI:?S3DLIO_CLI must name the s3dlio-mpi binary}
PASSED=0
FAILED=0
WORK=$(mktemp -d -t s3dlio-it.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

ok() { PASSED=$((PASSED + 1)); }
bad() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }

# expect NAME CODE REGEX -- CMD...: exit code CODE and stderr one line matching REGEX
expect() {
  local name=$1 code=$2 regex=$3; shift 4
  local err=$WORK/stderr rc=0
  "$@" >"$WORK/stdout" 2>"$err" || rc=$?
  local lines; lines=$(wc -l <"$err")
  if [ "$rc" != "$code" ]; then
    bad "$name: exit $rc, want $code; stderr: $(head -c 600 "$err")"
  elif [ -n "$regex" ] && ! grep -Eq -- "$regex" "$err"; then
    bad "$name: stderr does not match /$regex/: $(head -c 600 "$err")"
  elif [ "$code" != 0 ] && [ "$lines" != 1 ]; then
    bad "$name: want one line on stderr, got $lines: $(head -c 600 "$err")"
  else
    ok
  fi
}

# check NAME CMD...: the command succeeds
check() {
  local name=$1; shift
  if "$@" >"$WORK/check.out" 2>&1; then ok; else bad "$name: $(head -c 600 "$WORK/check.out")"; fi
}

same_file() { cmp -s "$1" "$2"; }

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
}

# random bytes of a given size into a file (deterministic per seed)
make_file() { head -c "$2" /dev/urandom >"$1"; }
# million_tree NAME: the million-object tests' dataset (skips under the sanitizers, where RSS
# means nothing): N (S3DLIO_MILLION, 1,000,000) empty files under $D/many and one under $D/one,
# D a directory in memory (a million inodes are made and removed much faster there) removed
# on exit with $WORK
million_tree() {
  if [ -n "${S3DLIO_SANITIZED:-}" ]; then
    echo "skipped: RSS means nothing under the sanitizers (shadow memory, quarantine)"
    exit 77
  fi
  N=${S3DLIO_MILLION:-1000000}
  local base=/dev/shm
  [ -d "$base" ] && [ -w "$base" ] || base=$WORK
  D=$(mktemp -d -p "$base" "s3dlio-$1.XXXXXX")
  trap 'rm -rf "$D" "$WORK"' EXIT
  make_empty_files "$D/many" "$N" || { echo "cannot make $N files under $D" >&2; exit 1; }
  make_empty_files "$D/one" 1 || exit 1
}
# make_empty_files DIR N: N empty files DIR/train/shard-NNNNN/img-NNNNNNNN.jpg, 1,000 per
# directory as an ML dataset's shards hold them (a million in ~10 s on tmpfs)
make_empty_files() {
  python3 - "$1" "$2" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    if i % 1000 == 0:
        d = os.path.join(root, "train", "shard-%05d" % (i // 1000))
        os.makedirs(d)
    os.close(os.open(os.path.join(d, "img-%08d.jpg" % i), os.O_CREAT | os.O_WRONLY, 0o644))
PY
}

# uploads_open BUCKET [ENDPOINT]: multipart uploads in progress in BUCKET, as awscli lists
# them (asked again if a busy machine made the call fail, so a failed call is never taken
# for an answer: "unknown" then)
uploads_open() {
  local n
  for _ in 1 2 3; do
    n=$(aws s3api list-multipart-uploads --bucket "$1" --endpoint-url "${2:-$AWS_ENDPOINT_URL}" \
          --query 'length(Uploads || `[]`)' --output text 2>/dev/null)
    [[ "$n" =~ ^[0-9]+$ ]] && { echo "$n"; return; }
    sleep 1
  done
  echo "unknown"
}

# proxy_start NAME [faultproxy options]: a fault proxy in front of the test server, stopped
# when the test exits (it watches this shell's pid); prints its URL
FAULTPROXY="$(cd "$(dirname "${BASH_SOURCE[0]}")/../fixtures" && pwd)/faultproxy"
proxy_start() {
  local name=$1; shift
  "$FAULTPROXY" --upstream "$AWS_ENDPOINT_URL" --state-dir "$WORK/proxy-$name" --daemon \
    --watch-pid $$ "$@" >/dev/null || return 1
  # shellcheck disable=SC1091
  (. "$WORK/proxy-$name/faultproxy.env"; echo "$FAULTPROXY_URL")
}
# proxy_stop NAME: stop that proxy (by its pid file)
proxy_stop() { "$FAULTPROXY" --stop --state-dir "$WORK/proxy-$1" >/dev/null 2>&1; }
# proxy_stat NAME EXPR: a value from the proxy's stats JSON, e.g. proxy_stat p 'd["faults"]["flip"]'
proxy_stat() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$WORK/proxy-$1/faultproxy.stats.json" "$2"
}
# interrupt_when_held PROXY SIG OUT CMD...: run CMD (output to OUT) as a job of its own with
# SIGINT at its default, as a terminal runs it; once the proxy PROXY (proxy_start NAME) holds
# a matching request of this job's, send SIG to the job's process group (mpirun and its ranks
# get it, as from Ctrl-C). The exit code is left in rc.
interrupt_when_held() {
  local name=$1 sig=$2 out=$3 before; shift 3
  # the proxy's count is cumulative: an earlier job's request must not start the clock, or a
  # slow start (sanitizers) is signalled before its handlers are in
  before=$(proxy_stat "$name" 'd["requests_matching"]' 2>/dev/null || echo 0)
  set -m # job control: the background job gets a process group of its own
  python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$@" >"$out" 2>&1 &
  local pid=$!
  for _ in $(seq 150); do
    [ "$(proxy_stat "$name" 'd["requests_matching"]' 2>/dev/null)" -gt "${before:-0}" ] 2>/dev/null && break
    sleep 0.1
  done
  sleep 0.5
  kill -"$sig" -- -"$pid" 2>/dev/null || kill -"$sig" "$pid"
  wait "$pid"
  rc=$?
  set +m
}

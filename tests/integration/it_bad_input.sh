#!/usr/bin/env bash
# Bad input: each case is one clear line on stderr naming what was wrong, and a non-zero
# exit (2 for usage errors, 1 for failed operations). Nothing partial is left behind.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
B=it-bad-$$-$RANDOM
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
echo hello >"$WORK/hello"
"$CLI" put -q "$WORK/hello" "s3://$B/present" || bad "setup put"

expect "malformed URI" 2 "ls 's3:/$B': invalid URI: not a URI" -- "$CLI" ls "s3:/$B"
expect "bad bucket name" 2 "invalid URI: bucket name must be 3 to 63" -- "$CLI" ls "s3://x/"
expect "unknown scheme" 2 "unknown scheme 'gs'" -- "$CLI" ls "gs://$B/"
expect "unknown command" 2 "'frobnicate' is not a command" -- "$CLI" frobnicate
expect "unknown option" 2 "unknown option '--nope'" -- "$CLI" ls --nope "s3://$B/"
expect "bad size" 2 "invalid value '5Q' for --part-size" -- "$CLI" put --part-size 5Q "$WORK/hello" "s3://$B/x"
expect "missing operand" 2 "expected URI and DEST" -- "$CLI" get "s3://$B/present"

mkdir -p "$WORK/nohome" "$WORK/nocwd"
expect "missing credentials" 1 "missing credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" -- \
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_PROFILE HOME="$WORK/nohome" \
  bash -c 'cd "$1" && shift && exec "$@"' _ "$WORK/nocwd" "$CLI" ls "s3://$B/"

expect "wrong secret" 1 "list 's3://$B/?': SignatureDoesNotMatch \(HTTP 403, request id [^)]+\)" -- \
  env AWS_SECRET_ACCESS_KEY=not-the-secret-value "$CLI" ls "s3://$B/"
grep -q "not-the-secret-value" "$WORK/stderr" && bad "the secret appears in the error" || ok

expect "unknown access key" 1 "InvalidAccessKeyId \(HTTP 403" -- \
  env AWS_ACCESS_KEY_ID=AKIDNOBODYHAS "$CLI" ls "s3://$B/"
expect "missing bucket" 1 "list 's3://no-such-bucket-$$/?': NoSuchBucket \(HTTP 404, request id" -- \
  "$CLI" ls "s3://no-such-bucket-$$/"
expect "missing key (get)" 1 "get 's3://$B/absent': NoSuchKey \(HTTP 404, request id [^)]+\)" -- \
  "$CLI" get "s3://$B/absent" "$WORK/absent.out"
[ -z "$(ls "$WORK" | grep absent)" ] && ok || bad "failed get left a file: $(ls "$WORK")"
expect "missing key (stat)" 1 "stat 's3://$B/absent': NoSuchKey \(HTTP 404" -- "$CLI" stat "s3://$B/absent"
expect "missing key (rm)" 1 "NoSuchKey" -- "$CLI" rm "s3://$B/absent"
expect "missing bucket (stat)" 1 "NoSuchBucket" -- "$CLI" stat "s3://no-such-bucket-$$/k"

# a port nothing listens on: bind one, note it, close it
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
# refused connections are retried for --retry-time (a server restart must not fail a job);
# a short one keeps the test quick, the message says how long it tried
expect "endpoint refused" 1 "list 's3://$B/?': connection failed: endpoint 'http://127.0.0.1:$port'" -- \
  "$CLI" ls --retry-time 1s --endpoint-url "http://127.0.0.1:$port" "s3://$B/"
expect "endpoint refused (env)" 1 "get 's3://$B/k': connection failed: endpoint 'http://127.0.0.1:$port'.*\(after [0-9]+ attempts in [0-9] s\)" -- \
  env AWS_ENDPOINT_URL="http://127.0.0.1:$port" "$CLI" get --retry-time 2s "s3://$B/k" "$WORK/k"
[ ! -e "$WORK/k" ] && ok || bad "a failed get leaves no file"
expect "bad endpoint scheme" 1 "invalid endpoint 'ftp://127.0.0.1:1': must start with http:// or https://" -- \
  "$CLI" ls --endpoint-url "ftp://127.0.0.1:1" "s3://$B/"

echo x >"$WORK/plainfile"
expect "file not a directory" 1 "not a directory" -- "$CLI" ls "file://$WORK/plainfile/"
expect "file relative path" 2 "file URI needs an absolute path" -- "$CLI" ls "file://relative/x"
expect "put missing source" 1 "put '$WORK/none': I/O error: cannot open: No such file" -- \
  "$CLI" put "$WORK/none" "s3://$B/x"
expect "get prefix" 2 "URI names a prefix" -- "$CLI" get "s3://$B/dir/" "$WORK/x"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish

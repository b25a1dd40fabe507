#!/usr/bin/env bash
# Secrets never reach logs or errors: at the most verbose level (every HTTP header is
# traced) neither the secret key, nor the signature, nor a session token appear.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
B=it-secret-$$-$RANDOM
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
echo data >"$WORK/f"

S3DLIO_LOG=all:trace "$CLI" put "$WORK/f" "s3://$B/f" 2>"$WORK/trace" >/dev/null || bad "traced put failed"
grep -q "Authorization: AWS4-HMAC-SHA256 Credential=$AWS_ACCESS_KEY_ID/" "$WORK/trace" && ok ||
  bad "trace shows the request headers (else this test proves nothing)"
grep -q "Signature=<redacted>" "$WORK/trace" && ok || bad "signature redacted"
grep -qF "$AWS_SECRET_ACCESS_KEY" "$WORK/trace" && bad "secret key in the trace" || ok
grep -Eq "Signature=[0-9a-f]{64}" "$WORK/trace" && bad "a signature in the trace" || ok

# a session token (RGW rejects it, which is fine: the failing path must not leak either)
token=FQoGZXIvYXdzEXAMPLETOKEN$$
AWS_SESSION_TOKEN=$token S3DLIO_LOG=all:trace "$CLI" ls "s3://$B/" >/dev/null 2>"$WORK/trace2"
grep -qi "x-amz-security-token: <redacted>" "$WORK/trace2" && ok || bad "token header shown redacted"
grep -qF "$token" "$WORK/trace2" && bad "session token in the trace or error" || ok
grep -qF "$AWS_SECRET_ACCESS_KEY" "$WORK/trace2" && bad "secret key in the trace or error" || ok

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish

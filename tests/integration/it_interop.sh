#!/usr/bin/env bash
# Interop with a client nobody here wrote (awscli or rclone, Debian packages): objects put
# by s3dlio-mpi are read back byte for byte by the peer, and objects the peer put are read
# back by s3dlio-mpi. Single-part and multipart in both directions.
#   it_interop.sh awscli|rclone
set -uo pipefail
. "$(dirname "$0")/lib.sh"
peer=${1:?awscli or rclone}
B=it-interop-$peer-$$-$RANDOM

case $peer in
  awscli)
    command -v aws >/dev/null || { echo "aws not installed (scripts/install-deps installs awscli)"; exit 77; }
    # awscli 2.9 predates AWS_ENDPOINT_URL: pass the endpoint explicitly
    peer_put() { aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --only-show-errors "$1" "s3://$B/$2"; }
    peer_get() { aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --only-show-errors "s3://$B/$1" "$2"; }
    ;;
  rclone)
    command -v rclone >/dev/null || { echo "rclone not installed (scripts/install-deps installs rclone)"; exit 77; }
    export RCLONE_CONFIG_IT_TYPE=s3 RCLONE_CONFIG_IT_PROVIDER=Ceph RCLONE_CONFIG_IT_ENV_AUTH=false
    export RCLONE_CONFIG_IT_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
    export RCLONE_CONFIG_IT_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
    export RCLONE_CONFIG_IT_ENDPOINT=$AWS_ENDPOINT_URL RCLONE_CONFIG_IT_REGION=$AWS_REGION
    export RCLONE_CONFIG=$WORK/rclone.conf
    : >"$RCLONE_CONFIG"
    # 8 MiB chunks above 10 MiB so the 21 MiB file goes multipart
    # rclone 1.60's S3 client fails on any AWS_CA_BUNDLE ("unsupported transport"); the
    # endpoint is plain http here, so drop it for rclone alone
    peer_put() { env -u AWS_CA_BUNDLE rclone copyto -q --s3-upload-cutoff 10M --s3-chunk-size 8M "$1" "IT:$B/$2"; }
    peer_get() { env -u AWS_CA_BUNDLE rclone copyto -q "IT:$B/$1" "$2"; }
    ;;
  *) echo "unknown peer $peer" >&2; exit 2 ;;
esac

"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
make_file "$WORK/small.bin" 100000
make_file "$WORK/big.bin" $((21 * 1024 * 1024 + 3))
: >"$WORK/empty.bin"

# s3dlio-mpi writes, the peer reads
for f in small big empty; do
  check "s3dlio put $f" "$CLI" put -q --part-size 5MiB --multipart-threshold 5MiB "$WORK/$f.bin" "s3://$B/ours/$f key.bin"
  check "$peer get $f" peer_get "ours/$f key.bin" "$WORK/$f.peer"
  same_file "$WORK/$f.bin" "$WORK/$f.peer" && ok || bad "$peer read back '$f' differently"
done
# the peer writes, s3dlio-mpi reads
for f in small big empty; do
  check "$peer put $f" peer_put "$WORK/$f.bin" "theirs/$f+key=1.bin"
  check "s3dlio get $f" "$CLI" get -q "s3://$B/theirs/$f+key=1.bin" "$WORK/$f.ours"
  same_file "$WORK/$f.bin" "$WORK/$f.ours" && ok || bad "s3dlio read back $peer's '$f' differently"
done
"$CLI" stat "s3://$B/theirs/big+key=1.bin" >"$WORK/stat" 2>&1
grep -Eq '^etag: +[0-9a-f]{32}-[0-9]+$' "$WORK/stat" && ok || bad "$peer's big upload was multipart: $(cat "$WORK/stat")"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish

#!/usr/bin/env bash
# Destination safety: folder markers are skipped and counted; a key that is also the
# directory of other keys fails by name; nothing is written through a symbolic link inside
# DEST (so never outside it); a name too long for the file system fails clearly; a listing
# whose continuation token repeats is refused; rm -r deletes keys XML cannot carry.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
B=it-dest-$$-$RANDOM
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
echo data >"$WORK/one"
s3api() { aws s3api --endpoint-url "$AWS_ENDPOINT_URL" "$@" >/dev/null; }

# 1. folder markers (the AWS console's "folders", Hadoop's directories): skipped, counted
s3api put-object --bucket "$B" --key "m/dir/" || bad "put marker"
s3api put-object --bucket "$B" --key "m/dir/sub/" || bad "put marker"
"$CLI" put -q "$WORK/one" "s3://$B/m/dir/a" && "$CLI" put -q "$WORK/one" "s3://$B/m/b" || bad "setup m/"
"$CLI" get -r "s3://$B/m/" "$WORK/m" 2>"$WORK/m.err" && ok || bad "markers: $(cat "$WORK/m.err")"
grep -q "get: 2 objects.*, 2 folder markers skipped" "$WORK/m.err" && ok || bad "markers counted: $(cat "$WORK/m.err")"
[ -f "$WORK/m/dir/a" ] && [ -f "$WORK/m/b" ] && ok || bad "the objects arrived"
"$CLI" stage -q --to "dir:$WORK/ms" --report "$WORK/ms.json" "s3://$B/m/" && ok || bad "stage with markers"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["totals"]["folder_markers"] != 2 or d["totals"]["failures"] != 0)' \
  "$WORK/ms.json" && ok || bad "stage report counts 2 markers, no failure"

# 2. 'c/a/b' and 'c/a/b/c': the first cannot be a file; it fails by name, the other arrives
"$CLI" put -q "$WORK/one" "s3://$B/c/a/b" && "$CLI" put -q "$WORK/one" "s3://$B/c/a/b/c" || bad "setup c/"
"$CLI" get -r "s3://$B/c/" "$WORK/c" 2>"$WORK/c.err"
rc=$?
[ "$rc" = 1 ] && ok || bad "file/directory conflict: exit $rc"
grep -q "get 's3://$B/c/a/b': usage error: key is also the directory of other keys ('c/a/b/...')" "$WORK/c.err" && ok ||
  bad "conflict named: $(cat "$WORK/c.err")"
[ -f "$WORK/c/a/b/c" ] && ok || bad "the other key arrived"

# 3. a symbolic link inside DEST pointing elsewhere: nothing is written through it
"$CLI" put -q "$WORK/one" "s3://$B/s/sub/x" && "$CLI" put -q "$WORK/one" "s3://$B/s/y" || bad "setup s/"
mkdir -p "$WORK/dest" "$WORK/elsewhere"
ln -s "$WORK/elsewhere" "$WORK/dest/sub"
"$CLI" get -r "s3://$B/s/" "$WORK/dest" 2>"$WORK/s.err"
rc=$?
[ "$rc" = 1 ] && ok || bad "symlink in DEST: exit $rc"
grep -q "'$WORK/dest/sub' is a symbolic link: refusing to write through it" "$WORK/s.err" && ok ||
  bad "symlink named: $(cat "$WORK/s.err")"
[ -z "$(ls -A "$WORK/elsewhere")" ] && ok || bad "something was written outside DEST"
[ -f "$WORK/dest/y" ] && ok || bad "the other key arrived"
# ... while DEST itself may be a link: the user named it
ln -s "$WORK/dest" "$WORK/destlink"
"$CLI" get -q "s3://$B/s/y" "$WORK/destlink/" && [ -f "$WORK/dest/y" ] && ok || bad "DEST may be a link"

# 4. a name longer than the file system allows
long=$(printf 'n%.0s' $(seq 1 300))
"$CLI" put -q "$WORK/one" "s3://$B/l/$long" || bad "setup l/"
"$CLI" get -r "s3://$B/l/" "$WORK/l" 2>"$WORK/l.err"
rc=$?
[ "$rc" = 1 ] && grep -q "file name of 300 bytes is longer than the file system allows (255)" "$WORK/l.err" &&
  ok || bad "long name: exit $rc: $(cat "$WORK/l.err")"

# 5. a listing whose continuation token repeats is refused, not listed forever
"$CLI" put -q --generate --count 40 --min-size 1 --max-size 10 "s3://$B/t/" || bad "setup t/"
url=$(proxy_start tokens --repeat-list-token)
expect "repeated token (ls)" 1 "list 's3://$B/t/': malformed response: the server repeated a continuation token after [0-9]+ pages" -- \
  "$CLI" ls -r --page-size 10 --endpoint-url "$url" "s3://$B/t/"
proxy_stop tokens

# 6. rm -r with a key that XML 1.0 cannot carry (DeleteObjects cannot name it): deleted alone,
#    and the count is what was deleted
"$CLI" put -q "$WORK/one" "s3://$B/x/a"$'\x01'"b" && "$CLI" put -q "$WORK/one" "s3://$B/x/c" &&
  "$CLI" put -q "$WORK/one" "s3://$B/x/d" || bad "setup x/"
"$CLI" rm -r "s3://$B/x/" 2>"$WORK/rm.err" && ok || bad "rm -r: $(cat "$WORK/rm.err")"
grep -q "deleted 3 object(s)" "$WORK/rm.err" && ok || bad "rm -r count: $(cat "$WORK/rm.err")"
[ -z "$("$CLI" ls -r "s3://$B/x/")" ] && ok || bad "everything under x/ deleted"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish

#!/usr/bin/env bash
# Time limits on every request: an endpoint that accepts connections and never answers
# fails every command within --stall-timeout / --retry-time, and within about 30 s with the
# defaults (it took 181 s once). The stalled attempt itself counts against --retry-time.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

# a black hole: accepts every connection, reads nothing, answers nothing
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(128)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' >"$WORK/port" &
hole=$!
trap 'kill "$hole" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(cat "$WORK/port")
echo x >"$WORK/x"

# the defaults: a dead endpoint fails within about 30 s (a stall is 30 s, --retry-time 30 s);
# started first and run alongside the short cases. Under sanitizers the same code path is
# covered by the short cases, and the 30 s would only add to the run.
if [ -z "${S3DLIO_SANITIZED:-}" ]; then
  ( t0=$(date +%s)
    "$CLI" ls --endpoint-url "$url" s3://hole/ >"$WORK/def.out" 2>&1
    echo "$? $(($(date +%s) - t0))" >"$WORK/def.result" ) &
  defaults=$!
fi

# short limits: every command, control calls included, fails after one stalled attempt
short=(--endpoint-url "$url" --stall-timeout 2s --retry-time 2s -v)
cmds=("ls s3://hole/" "stat s3://hole/k" "rm s3://hole/k" "mb s3://hole2"
      "get s3://hole/k $WORK/k" "put $WORK/x s3://hole/k")
pids=()
for i in "${!cmds[@]}"; do
  # shellcheck disable=SC2086
  ( "$CLI" ${cmds[$i]} "${short[@]}" >"$WORK/out$i" 2>&1; echo $? >"$WORK/rc$i" ) &
  pids+=($!)
done
wait "${pids[@]}"
for i in "${!cmds[@]}"; do
  cmd=${cmds[$i]}
  rc=$(cat "$WORK/rc$i")
  [ "$rc" = 1 ] && ok || bad "$cmd: exit $rc: $(tail -2 "$WORK/out$i")"
  grep -q "timed out: endpoint '$url'" "$WORK/out$i" && ok || bad "$cmd: names the timeout: $(tail -2 "$WORK/out$i")"
  # the stall (2 s) used up --retry-time (2 s): another 2 s attempt would double the wait
  grep -q "retry 1 of" "$WORK/out$i" && bad "$cmd: retried after the budget was spent: $(grep retry "$WORK/out$i" | head -2)" || ok
done
[ ! -e "$WORK/k" ] && ok || bad "a timed-out get left a file"

if [ -n "${defaults:-}" ]; then
  wait "$defaults"
  read -r rc took <"$WORK/def.result"
  [ "$rc" = 1 ] && ok || bad "defaults: exit $rc"
  [ "$took" -lt 45 ] && ok || bad "defaults: a dead endpoint took $took s to fail (want about 30 s)"
  echo "defaults: ls against a dead endpoint failed after $took s"
fi
finish

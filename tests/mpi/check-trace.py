#!/usr/bin/env python3
# check-trace.py TRACE REPORT NP [OP...]: a --trace file against the run's report.json.
#   - the trace is strict UTF-8 JSON with traceEvents, displayTimeUnit and otherData
#   - one complete ("X", dur >= 0) request event per request: as many as the report's
#     totals.requests, and per rank as many as its per_rank requests; none dropped
#   - per rank, every request lies within the rank's transfer phase (download, upload, h5_write, checkpoint_save/restore), give
#     or take the clock offset's error; no two events of a lane overlap
#   - the bytes of the successful data requests add up to the report's totals.bytes
#   - the pids are the ranks 0..NP-1, each named "rank N (host)"
#   - every OP given appears among the requests (e.g. UploadPart)
# Prints one line per failed check and "ok: ..." with a summary; exit 1 if any failed.
import collections
import json
import sys

trace_path, report_path, np_ = sys.argv[1], sys.argv[2], int(sys.argv[3])
want_ops = sys.argv[4:]
failures = []


def bad(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


with open(trace_path, "rb") as f:
    raw = f.read()
try:
    trace = json.loads(raw.decode("utf-8"))  # strict: bytes that are not UTF-8 fail here
except (UnicodeDecodeError, ValueError) as e:
    print(f"FAIL: {trace_path} is not UTF-8 JSON: {e}", file=sys.stderr)
    sys.exit(1)
with open(report_path) as f:
    report = json.load(f)

for k in ("traceEvents", "displayTimeUnit", "otherData"):
    if k not in trace:
        bad(f"no {k}")
events = trace.get("traceEvents", [])
other = trace.get("otherData", {})
if other.get("dropped_spans") != 0:
    bad(f"dropped spans: {other.get('dropped_spans')}")
errors = other.get("clock_error_ns", [])
# ts/dur carry whole nanoseconds as microseconds with 3 decimals: 1 ns of float slack
SLACK_US = 0.0011

requests = [e for e in events if e.get("ph") == "X" and e.get("cat") in ("data", "control")]
phases = [e for e in events if e.get("ph") == "X" and e.get("cat") == "phase"]
names = {e["pid"]: e["args"]["name"] for e in events
         if e.get("ph") == "M" and e.get("name") == "process_name"}

totals = report["totals"]
if len(requests) != totals["requests"]:
    bad(f"{len(requests)} request events, the report counts {totals['requests']} requests")
per_rank = {r["rank"]: r["requests"] for r in report["per_rank"]}
by_pid = collections.Counter(e["pid"] for e in requests)
for rank, n in per_rank.items():
    if by_pid.get(rank, 0) != n:
        bad(f"rank {rank}: {by_pid.get(rank, 0)} request events, the report says {n}")

if sorted(names) != list(range(np_)):
    bad(f"processes {sorted(names)}, want ranks 0..{np_ - 1}")
for pid, name in names.items():
    if not name.startswith(f"rank {pid} ("):
        bad(f"process {pid} is named {name!r}")

for e in requests + phases:
    if not isinstance(e.get("dur"), (int, float)) or e["dur"] < 0 or e.get("ts", -1) < 0:
        bad(f"incomplete event: {e}")
        break

# a job that lists (stage, get, put) shows rank 0's list and partition phases before the transfer
if report.get("command") in ("stage", "get", "put"):
    names0 = {p["name"] for p in phases if p["pid"] == 0}
    for want in ("list", "partition"):
        if want not in names0:
            bad(f"rank 0 has no {want} phase (it has {sorted(names0)})")

# within the rank's transfer phase
transfer = {}
for p in phases:
    if p["name"] in ("download", "upload", "h5_write", "checkpoint_save", "checkpoint_restore"):
        transfer[p["pid"]] = (p["ts"], p["ts"] + p["dur"])
outside = 0
for e in requests:
    pid = e["pid"]
    if pid not in transfer:
        bad(f"rank {pid} has requests but no transfer phase")
        transfer[pid] = (float("inf"), float("-inf"))
        continue
    tol = SLACK_US + (errors[pid] / 1000.0 if pid < len(errors) else 0)
    lo, hi = transfer[pid]
    if e["ts"] < lo - tol or e["ts"] + e["dur"] > hi + tol:
        outside += 1
if outside:
    bad(f"{outside} requests outside their rank's transfer phase")

# lanes
lanes = collections.defaultdict(list)
for e in requests:
    lanes[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"]))
overlaps = 0
for spans in lanes.values():
    spans.sort()
    overlaps += sum(1 for a, b in zip(spans, spans[1:]) if b[0] < a[1] - SLACK_US)
if overlaps:
    bad(f"{overlaps} overlapping events on a lane")

ok_bytes = sum(e["args"]["bytes"] for e in requests if e["cat"] == "data" and e["args"]["rc"] == "ok")
if ok_bytes != totals["bytes"]:
    bad(f"successful data requests carry {ok_bytes} bytes, the report counts {totals['bytes']}")

ops = collections.Counter(e["name"] for e in requests)
for op in want_ops:
    if not ops.get(op):
        bad(f"no {op} request in the trace (ops: {dict(ops)})")

if failures:
    sys.exit(1)
ts_all = [e["ts"] for e in requests + phases]
print(f"ok: {len(requests)} requests, {ok_bytes} bytes, ranks {sorted(names)}, "
      f"lanes {len(lanes)}, ops {dict(ops)}, ts {min(ts_all):.3f}..{max(ts_all):.3f} us")

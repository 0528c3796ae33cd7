#!/usr/bin/python3
"""The fault table of docs/reliability.md, from tests/artifacts/faults.json.

test_faults.py records each fault under each front server it ran through
(``name@lighttpd``, ``name@nginx``); this prints them as the Markdown table the page
shows, and the run they come from. Usage: tests/e2e/fault_table.py [faults.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

FAULTS = [
    ("busy_loop", "Python busy loop (`while True: pass`)"),
    ("sleep", "`time.sleep(10**6)`"),
    ("c_pause", "`pause()` in C (GIL released)"),
    ("c_mutex_deadlock", "deadlock in C, GIL released"),
    ("c_mutex_deadlock_gil_held", "deadlock in C holding the GIL"),
    ("worker_stopped", "worker stopped from outside (SIGSTOP)"),
    ("segfault", "segfault (`ctypes.string_at(0)`)"),
    ("os_exit", "`os._exit(3)`"),
    ("os_exit_after_libc_system", "`os._exit` after starting a program from C"),
    ("segfault_burst_8", "8 segfaulting requests in a row"),
    ("alloc_2gb", "2 GB allocation under `--memory-limit 512`"),
    ("sighup_under_load", "SIGHUP to the master under load"),
]
FRONTS = ("lighttpd", "nginx")


def cell(rec: dict[str, Any], key: str, fmt: str = "{}") -> str:
    value = rec.get(key)
    return "" if value is None else fmt.format(value)


def row(name: str, what: str, front: str, rec: dict[str, Any]) -> str:
    status = rec.get("status")
    if status is None and "statuses" in rec:
        status = "×".join(sorted({str(s) for s in rec["statuses"]})) + f" ×{len(rec['statuses'])}"
    if status is None and "in_flight_status" in rec:
        status = f"{rec['in_flight_status']} (in flight)"
    after = rec.get("seconds_to_answer", rec.get("seconds", rec.get("reload_s")))
    lost = rec.get("other_requests_lost", rec.get("hellos_failed"))
    sent = rec.get("hellos_sent")
    lost_text = "" if lost is None else (f"{lost} of {sent}" if sent is not None else str(lost))
    replaced = rec.get("worker_replaced")
    worker = {True: "replaced", False: "kept"}.get(replaced, "")
    if name == "segfault_burst_8":
        worker = "8 replaced"
    if name == "sighup_under_load":
        worker = "new generation"
    recovery = rec.get("recovery_s")
    return (f"| {what} | {front} | {status if status is not None else ''} | "
            f"{'' if after is None else f'{after:.3f}'} | {lost_text} | {worker} | "
            f"{'' if recovery is None else f'{recovery:.3f}'} |")


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "artifacts" / "faults.json"
    data = json.loads(path.read_text())
    lines = ["| fault | front | status | after (s) | other requests lost | worker | recovery (s) |",
             "|---|---|---|---|---|---|---|"]
    missing = []
    for name, what in FAULTS:
        for front in FRONTS:
            rec = data.get(f"{name}@{front}")
            if rec is None:
                if name != "worker_stopped" or front == "nginx":
                    missing.append(f"{name}@{front}")
                continue
            lines.append(row(name, what, front, rec))
    print("\n".join(lines))
    run = data.get("_run", {})
    print(f"\nFrom the run of {run.get('when', '?')} (`--timeout {run.get('timeout')} "
          f"--kill-grace {run.get('kill_grace')}`).")
    if missing:
        print(f"missing from {path}: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run a command and report its peak RSS: `python bench/launch.py <cmd...>`.

A small launcher, so the measured process is forked from a small image: ru_maxrss counts
the image a child was forked from, which would otherwise be the bench driver's. Prints
`BENCH-RSS <bytes>` (the child's and its waited-for descendants' peak) and `BENCH-CPU
<seconds>` (its user + system CPU time) after the child exits.
"""

from __future__ import annotations

import os
import subprocess
import sys


def main() -> None:
    proc = subprocess.Popen(sys.argv[1:])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    print(f"BENCH-RSS {usage.ru_maxrss * 1024}", flush=True)
    print(f"BENCH-CPU {usage.ru_utime + usage.ru_stime:.3f}", flush=True)
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()

"""Running a benchmark step as its own process and measuring it."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run a command as a child; return its wall time, its own peak RSS (bytes, from wait4's
    rusage, so one step's memory is not mixed with the benchmark's) and its stdout."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(
                f"{' '.join(args)} failed ({proc.returncode}):\n{err.read().decode()[-2000:]}"
            )
        return elapsed, usage.ru_maxrss * 1024, out.read().decode()

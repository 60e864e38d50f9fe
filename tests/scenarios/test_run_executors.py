"""`services.dunning.run` on one process and on forked workers: the same report, word for word.

Two identical generated ledgers in databases of their own; the day is run on each with small
batches, so that two workers share the spans on one and a single process does it all on the other.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from scenario_support import (
    DAY,
    PYTHON,
    build_in,
    checked,
    clone_database,
    drop_database,
    environment,
    new_database,
)

SCRIPT = """
import json, os, sys
from datetime import date
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
import django
django.setup()
from relance.services.dunning.run import run
done = run(date.fromisoformat(sys.argv[1]), batch_size=20)
print(json.dumps({"report": done.report.as_json(), "counts": done.run.counts}))
"""


def run_in(url: str, var: Path, workers: int) -> dict:
    env = environment(url, var, RELANCE_CYCLE_WORKERS=str(workers))
    command = [PYTHON, "-c", SCRIPT, DAY]
    done = subprocess.run(command, env=env, cwd=var.parent, capture_output=True, text=True)
    return json.loads(checked(done).stdout)


def test_one_process_and_two_workers_report_the_same_day(tmp_path):
    one = new_database(tmp_path, "one")
    two = ""
    try:
        build_in(one, tmp_path / "build", 200, tmp_path / "csv")
        two = clone_database(one, tmp_path, "two")
        alone, shared = run_in(one, tmp_path / "one", 1), run_in(two, tmp_path / "two", 2)
    finally:
        for url in (one, two):
            if url:
                drop_database(url)
    assert len(alone["report"]["actions"]) > 50
    assert {a["status"] for a in alone["report"]["actions"]} >= {"sent"}  # delivered, marked
    assert shared["report"] == alone["report"]
    assert (alone["counts"].get("workers", 1), shared["counts"]["workers"]) == (1, 2)

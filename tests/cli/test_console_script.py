"""The installed `relance` console script in its own processes, as outside scripts drive it.

Runs against a database of its own: a fresh SQLite file, or a fresh PostgreSQL database when the
suite runs on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

RELANCE = str(Path(sys.executable).parent / "relance")


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'relance.sqlite3'}"
        return
    import psycopg

    name = f"relance_cli_{uuid.uuid4().hex[:8]}"
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    yield url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def run(database_url: str, tmp_path: Path):
    env = {**os.environ, "DATABASE_URL": database_url, "RELANCE_VAR_DIR": str(tmp_path / "var")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [RELANCE, *map(str, args)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def test_a_day_of_imports_through_the_console_script(run, tmp_path):
    assert run("init").returncode == 0
    (tmp_path / "customers.csv").write_text(
        "external_id,name,currency,language,country,owner_email\n"
        "C1,Boulangerie Dupont,EUR,fr,FR,claire@ar.test\nC2,Harbour Ltd,GBP,en,GB,\n"
    )
    (tmp_path / "invoices.csv").write_text(
        "external_id,customer_id,number,issue_date,due_date,currency,total,status\n"
        "I1,C1,F-1,2026-01-10,2026-02-09,EUR,1000.00,open\n"
        "I2,C2,F-2,2026-01-12,2026-02-11,GBP,300.00,\n"
    )
    (tmp_path / "payments.csv").write_text(
        "external_id,customer_id,invoice_id,date,currency,amount\nP1,C1,I1,2026-02-01,EUR,400\n"
    )
    done = run("import", "customers", tmp_path / "customers.csv", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (2, 0, 0)
    assert summary["errors"] == []

    dry = run("import", "invoices", tmp_path / "invoices.csv", "--dry-run", "--json")
    assert json.loads(dry.stdout)["created"] == 2
    real = json.loads(run("import", "invoices", tmp_path / "invoices.csv", "--json").stdout)
    assert real["created"] == 2  # the dry run wrote nothing
    again = json.loads(run("import", "invoices", tmp_path / "invoices.csv", "--json").stdout)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert run("import", "payments", tmp_path / "payments.csv").returncode == 0

    (tmp_path / "bad.csv").write_text(
        "external_id,customer_id,number,issue_date,due_date,currency,total\n"
        "I3,C1,F-3,2026-02-30,2026-03-01,EUR,10\n"
    )
    bad = run("import", "invoices", tmp_path / "bad.csv", "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["errors"] == [
        {"row": 2, "field": "issue_date", "message": "'2026-02-30' is not a valid calendar date"}
    ]
    assert "Traceback" not in bad.stderr

    usage = run("import", "invoices")
    assert usage.returncode == 2
    assert run("--help").returncode == 0

"""The domain is plain Python: importing it never loads Django, so its tests run in seconds.

`make unit` runs this folder with pytest-django off; these tests keep it possible.
"""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import relance
import relance.domain


def test_importing_the_whole_domain_loads_no_django() -> None:
    """In a fresh interpreter, so that nothing this test run imported earlier can hide it."""
    modules = [m.name for m in pkgutil.walk_packages(relance.domain.__path__, "relance.domain.")]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]", found.stdout


def test_the_unit_loop_never_loads_django() -> None:
    """`make unit`'s way (pytest -p no:django): neither the conftests nor the tests import Django.
    Run in a fresh interpreter, as the suite itself has Django set up."""
    script = (
        "import sys, pytest\n"
        "code = pytest.main(['-p', 'no:django', '-p', 'no:cacheprovider', '-q',\n"
        "    '-W', 'ignore::pytest.PytestConfigWarning', 'tests/domain/test_money.py'])\n"
        "print('django loaded:', 'django' in sys.modules)\n"
        "sys.exit(int(code))\n"
    )
    root = Path(relance.__file__).resolve().parents[1]
    env = {**os.environ, "HYPOTHESIS_PROFILE": "quick"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root, env=env
    )
    assert found.returncode == 0, found.stdout + found.stderr
    assert found.stdout.strip().endswith("django loaded: False"), found.stdout

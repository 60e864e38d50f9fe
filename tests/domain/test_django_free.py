"""The domain is plain Python: importing it never loads Django, so its tests run in seconds.

`make unit` runs this folder with pytest-django off; these tests keep it possible.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

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


def test_the_unit_loop_never_loads_django(pytestconfig: pytest.Config) -> None:
    """Under `make unit` (pytest -p no:django) neither the conftests nor the tests import Django."""
    if pytestconfig.pluginmanager.hasplugin("django"):
        pytest.skip("pytest-django is on: this run sets Django up on purpose")
    assert "django" not in sys.modules

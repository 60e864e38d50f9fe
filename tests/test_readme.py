"""The README's CSV examples import as shown: the documentation stays true."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
STANDARD = Path(__file__).resolve().parents[1] / "relance" / "plans" / "standard.yaml"


def examples() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    return dict(re.findall(r"`([a-z-]+)\.csv`[^\n]*\n```csv\n(.*?)```", text, flags=re.S))


def test_readme_examples_import_in_order(relance, company, tmp_path):
    found = examples()
    assert list(found) == ["customers", "contacts", "invoices", "credit-notes", "payments"]
    relance.json("plan", "load", STANDARD)
    for kind, body in found.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text(body, encoding="utf-8")
        out = relance.json("import", kind, path)
        assert out["errors"] == []
        assert out["created"] == body.count("\n") - 1

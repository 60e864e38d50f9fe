"""A file's first rows as the import reads them, before importing."""

from __future__ import annotations

import io

from relance.domain.mappings import parse
from relance.services.ledger.import_preview import preview


def test_preview_of_a_french_balance(company):
    data = (
        "Balance âgée\n\nN° facture;Code client;Date;Échéance;Montant TTC;Reste dû\n"
        "F-1;C1;31/01/2026;02/03/2026;1 234,56;234,56\n"
        "F-2;C1;bientôt;02/03/2026;10,00;0\n"
    ).encode("cp1252")
    mapping = parse(
        'kind: invoices\ncolumns: {external_id: "N° facture", customer_id: "Code client", '
        'number: "N° facture", issue_date: Date, due_date: "Échéance", total: "Montant TTC"}\n'
        'open_amount: "Reste dû"\n'
    )
    shown = preview("invoices", io.BytesIO(data), company, filename="b.csv", mapping=mapping)
    assert shown.format == {"encoding": "Windows-1252", "delimiter": ";", "sheet": None}
    assert shown.rows == [
        {
            "row": 4,
            "values": {
                "external_id": "F-1",
                "customer_id": "C1",
                "number": "F-1",
                "issue_date": "2026-01-31",
                "due_date": "2026-03-02",
                "total": "1234.56",
                "currency": "EUR",
            },
            "extras": {"open_amount": "234.56"},
        },
        {  # shown too, its wrong date as written, for the page to mark that cell
            "row": 5,
            "values": {
                "external_id": "F-2",
                "customer_id": "C1",
                "number": "F-2",
                "issue_date": "bientôt",
                "due_date": "2026-03-02",
                "total": "10.00",
                "currency": "EUR",
            },
            "extras": {"open_amount": "0"},
        },
    ]
    assert shown.errors[0]["row"] == 5
    assert shown.errors[0]["field"] == "issue_date"

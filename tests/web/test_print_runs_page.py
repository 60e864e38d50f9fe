"""Print runs in the staff app: download a run's letters as one PDF and mark it posted, which
records its letters as sent; a letter filed between the download and "posted" waits for the next
run instead of being recorded as posted unprinted."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter

from relance.models import Event, OutboxMessage, PrintBatch
from relance.services.dunning.print_runs import file_letter


def _pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _letter(company, customer, key: str, pages: int) -> OutboxMessage:
    message = OutboxMessage.objects.create(
        key=key,
        company=company,
        customer=customer,
        channel="letter",
        to=[],
        status=OutboxMessage.Status.PRINTING,
    )
    file_letter(company.pk, message.pk, _pdf(pages))
    return message


def test_a_controller_prints_exactly_what_they_downloaded(world):
    dupont = world.customers["dupont"]
    first = _letter(world.alpha, dupont, "l1", 1)
    second = _letter(world.alpha, dupont, "l2", 2)
    client = world.client("controller")
    page = client.get(f"/print-runs/?company={world.alpha.pk}").content.decode()
    [run] = PrintBatch.objects.all()
    assert "To print" in page
    assert f'href="/print-runs/{run.pk}/letters.pdf?through=' in page
    through = run.letters.order_by("-pk").first().pk

    pdf = client.get(f"/print-runs/{run.pk}/letters.pdf?through={through}")
    assert pdf["Content-Type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(pdf.content)).pages) == 3
    duplex = client.get(f"/print-runs/{run.pk}/letters.pdf?through={through}&duplex=1")
    assert len(PdfReader(io.BytesIO(duplex.content)).pages) == 4  # 1 and a blank back, then 2

    late = _letter(world.alpha, dupont, "l3", 1)  # filed after the download
    answer = client.post(
        f"/print-runs/{run.pk}/posted/", {"through": through, "reference": "La Poste 123"}
    )
    assert answer.status_code == 302
    run.refresh_from_db()
    assert run.status == PrintBatch.Status.POSTED
    assert run.provider_reference == "La Poste 123"
    statuses = dict(OutboxMessage.objects.values_list("key", "status"))
    assert statuses == {"l1": "sent", "l2": "sent", "l3": "printing"}
    [following] = PrintBatch.objects.filter(status=PrintBatch.Status.OPEN)
    assert list(following.letters.values_list("message_id", flat=True)) == [late.pk]
    assert Event.objects.get(kind="letters.posted").data["letters"] == 2
    assert {first.pk, second.pk} == set(run.letters.values_list("message_id", flat=True))

    again = client.post(f"/print-runs/{run.pk}/posted/", {"through": through}, follow=True)
    assert "already posted" in again.content.decode()


def test_print_runs_are_for_those_who_act_on_the_company(world):
    _letter(world.alpha, world.customers["dupont"], "l1", 1)
    [run] = PrintBatch.objects.all()
    for user in ("reader", "rep"):
        client = world.client(user)
        assert client.get("/print-runs/").status_code == 403
        assert client.get(f"/print-runs/{run.pk}/letters.pdf").status_code == 403
        assert client.post(f"/print-runs/{run.pk}/posted/", {"through": 1}).status_code == 403
    other = world.client("beta_admin")
    assert other.get(f"/print-runs/{run.pk}/letters.pdf").status_code == 404
    assert other.get(f"/print-runs/?company={world.alpha.pk}").status_code == 404
    assert world.client("admin").get("/outbox/").content.decode().count("/print-runs/") == 1
    run.refresh_from_db()
    assert run.status == PrintBatch.Status.OPEN

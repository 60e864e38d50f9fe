"""Request size limits by path, enforced from Content-Length before anything reads the body: a
100 MB proof upload to the portal is refused with 413 and a readable page, having read nothing,
a normal proof still goes through; staff pages have a general limit, the API its own (in its
JSON error body), comfortably above a full batch."""

from __future__ import annotations

import io
import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from relance.api.ledger import MAX_BATCH
from relance.models import Customer, Dispute, Membership
from relance.services.integrations import api_tokens

READ_AT_MOST = 8 * 1024
CSRF = "a" * 32


class Untouchable(io.RawIOBase):
    """A request body of `size` bytes that records how much of it anyone reads."""

    def __init__(self, size: int) -> None:
        self.size, self.read_so_far = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        want = min(len(buffer), self.size - self.read_so_far)
        buffer[:want] = b"x" * want
        self.read_so_far += want
        assert self.read_so_far <= READ_AT_MOST, "the body was read before being refused"
        return want


def call_wsgi(path: str, length: int, content_type: str, **extra):
    """The WSGI application as a server calls it, with a body nobody may read much of."""
    body = Untouchable(length)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "198.51.100.7",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(length),
        "wsgi.input": body,
        # a visitor of the page: CSRF cookie and token, so the CSRF check reads the form
        "HTTP_COOKIE": f"csrftoken={CSRF}",
        "HTTP_X_CSRFTOKEN": CSRF,
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        **extra,
    }
    answer: dict[str, object] = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

    # the test keeps its database connection across the call, as Django's test client does
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, start_response)
        content = b"".join(response)
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], content.decode(), body.read_so_far


def test_a_100_mb_proof_is_refused_before_its_body_is_read(ledger):
    status, headers, page, read = call_wsgi(
        ledger.path(suffix="dispute/"),
        100 * 1024 * 1024,
        "multipart/form-data; boundary=----relance",
    )
    assert status == 413
    assert read == 0
    assert headers["Content-Type"].startswith("text/html")
    assert "too large" in page or "trop volumineu" in page
    assert not Dispute.objects.exists()


def test_a_1_mb_proof_still_goes_through(ledger):
    proof = SimpleUploadedFile("proof.pdf", b"%PDF-1.4\n" + b"0" * 1024 * 1024, "application/pdf")
    body = {"invoices": ["I1"], "category": "already_paid", "message": "Paid", "proof": proof}
    page = Client().post(ledger.path(suffix="dispute/"), body)
    assert page.status_code == 200
    assert Dispute.objects.get().proof.size == 1024 * 1024 + 9


def test_a_chunked_body_without_a_length_is_refused(ledger):
    status, _headers, _page, read = call_wsgi(
        ledger.path(suffix="dispute/"),
        0,
        "multipart/form-data; boundary=----relance",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert status == 411
    assert read == 0


def test_a_staff_page_refuses_a_body_over_the_general_limit(ledger):
    status, _headers, page, read = call_wsgi(
        "/customers/", settings.RELANCE_MAX_REQUEST_BYTES + 1, "application/x-www-form-urlencoded"
    )
    assert status == 413
    assert read == 0
    assert "too large" in page


def test_the_api_answers_413_in_its_error_body(ledger):
    status, headers, page, read = call_wsgi(
        "/api/v1/customers/batch", settings.RELANCE_MAX_API_REQUEST_BYTES + 1, "application/json"
    )
    assert status == 413
    assert read == 0
    assert headers["Content-Type"] == "application/json"
    error = json.loads(page)["error"]
    assert error["type"] == "payload_too_large"
    assert str(settings.RELANCE_MAX_API_REQUEST_BYTES // 2**20) in error["message"]
    assert error["details"] == [{"field": "body", "message": error["message"]}]


def test_a_full_api_batch_of_long_rows_still_goes_through(ledger):
    admin = get_user_model().objects.create(username="admin", email="admin@atelier.test")
    Membership.objects.create(company=ledger.company, user=admin, role=Membership.Role.ADMIN)
    _, raw = api_tokens.create(ledger.company, "erp", "write", actor=admin)
    rows = [  # at the database's lengths, in letters JSON escapes (6 bytes each): ~4 MB
        {
            "external_id": f"B{n:04d}",
            "name": "é" * 200,
            "address_line1": "ü" * 200,
            "address_line2": "è" * 200,
            "city": "ï" * 100,
        }
        for n in range(MAX_BATCH)
    ]
    body = json.dumps({"rows": rows})
    assert len(body) > 2.5 * 2**20  # over Django's default DATA_UPLOAD_MAX_MEMORY_SIZE
    answer = Client().post(
        "/api/v1/customers/batch",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert answer.status_code == 200, answer.content[:500]
    assert Customer.objects.filter(external_id__startswith="B0").count() == MAX_BATCH

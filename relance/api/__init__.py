"""The REST API (django-ninja): the ledger, dunning and KPIs for an ERP or a script, with tokens
per company, `Idempotency-Key` on POST and OpenAPI at /api/openapi.json."""

"""Other systems: API tokens, idempotency keys, webhooks out (and their SSRF guard) and the
JSON forms they share. They depend on no other area but the organisation's journal, which
tells the webhooks what happened: every area above may use them."""

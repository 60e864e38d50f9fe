"""Other systems: API tokens, idempotency keys, webhooks out (and their SSRF guard),
the JSON forms they share, and online payment providers."""

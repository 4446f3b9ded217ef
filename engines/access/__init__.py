"""Who may do what over HTTP: API keys, the server secret, signed URLs, rate limits, quotas, the
audit log and signed webhooks (docs/security.md)."""

"""Internals of `reporting.deliver`: message content (templates) and transports (SMTP, outbox)."""

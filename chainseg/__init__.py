"""Cross-cutting pieces every stage shares: the validated configuration and the user-facing error type."""

"""OS-independent fallback backends (plyer notifier, log-only notifier)."""

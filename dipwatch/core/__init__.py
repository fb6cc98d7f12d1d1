"""The kernel: records, times, conventions, errors, config and brands. Imported by every layer;
imports nothing of ours outside ``dipwatch.core``."""

"""Collectors: one module per source, each yields Post records and knows nothing of the store."""

"""dipwatch: how customers' public sentiment dips during a brand's outage, and when it recovers."""

__version__ = "0.1.0"

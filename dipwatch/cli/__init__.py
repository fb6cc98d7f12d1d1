"""The ``dipwatch`` command line (click only): each command parses its options, calls a job or the
read model, and prints."""

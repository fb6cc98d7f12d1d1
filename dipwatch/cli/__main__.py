"""``python -m dipwatch.cli``: the same as the ``dipwatch`` console script."""

from dipwatch.cli.main import main

main()

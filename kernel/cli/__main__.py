"""``python -m reelgraph.cli``: the same as the ``reelgraph`` command."""

from reelgraph.cli.main import main

main()

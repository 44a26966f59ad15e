"""``python -m reelgraph``: the same as the ``reelgraph`` command (and ``python -m reelgraph.cli``)."""

from reelgraph.cli.main import main

main()

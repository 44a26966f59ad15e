"""Stock footage: ``render_shot`` and ``generate_clip`` from the Pexels and Pixabay libraries.

Two providers, ``pexels`` (:mod:`.pexels`) and ``pixabay`` (:mod:`.pixabay`),
share :mod:`._stock` (search terms, choosing a file, caching, errors, the
hooks) and :mod:`._footage` (download, decode, loop, dim with the title,
normalise). The ``credits`` gate (:mod:`.credits`) writes every clip's author
and page to ``credits.txt``. Both libraries are free; install the keyword
extractor with ``pip install 'reelgraph[stock]'``.
"""

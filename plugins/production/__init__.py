"""Production planning: the video tool catalog and the solver (VideoSolver).

``tools.yaml`` is the catalog (every figure cited); :mod:`.catalog` merges
it with the user's tools file and other plugins' entries; :mod:`.planner`
chooses a tool per shot under a budget, a time limit and a quality floor
(:mod:`._milp`, PuLP/CBC); :mod:`.report` writes ``plan.json`` and
``plan.md``; :mod:`.solver` is the ``solver`` provider.
"""

"""``reelgraph serve``: an HTTP API over the kernel (FastAPI, uvicorn, Server-Sent Events).

Optional: ``pip install "reelgraph[server]"``. Nothing here is imported by the
base install or by ``reelgraph --help``; the CLI imports
:mod:`reelgraph.contrib.server.cli` only when ``serve`` runs.

Modules: :mod:`.app` (the FastAPI application and its routes), :mod:`.runs`
(runs executed in the server's event loop), :mod:`.files` (which files of a run
may be downloaded), :mod:`.events` (event streams), :mod:`.quick` (quick actions
for the text workflows), :mod:`.production` (brief -> script, shots, plan),
:mod:`.timeline` (attempts in lanes, Chrome trace, CSV), :mod:`.errors` (kernel
errors as HTTP errors), :mod:`.cli` (the command). The dashboard:
:mod:`.dashboard` (its pages and their JSON; ``templates/`` and ``static/``),
:mod:`.dashboard_view` (the DAG laid out, node states, timeline, ETA, costs),
:mod:`.dashboard_auth` (the token once into a session cookie).
"""

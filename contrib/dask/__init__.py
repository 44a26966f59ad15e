"""The Dask executor: hook calls on Dask distributed workers (``reelgraph[dask]``).

``reelgraph run SPEC --executor dask`` (a ``LocalCluster`` of ``--workers N``
processes on this machine) or ``--executor dask --scheduler tcp://HOST:8786``
(a running cluster). See :mod:`reelgraph.contrib.dask.executor`.
"""

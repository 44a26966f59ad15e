"""Workflows in Python: :class:`Workflow` builds the same spec a YAML file describes.

See :mod:`reelgraph.workflow.builder` for the builder and
:mod:`reelgraph.spec.functions` for function nodes.
"""

from __future__ import annotations

from reelgraph.workflow.builder import NodeHandle, Reference, Workflow, item

__all__ = ["NodeHandle", "Reference", "Workflow", "item"]

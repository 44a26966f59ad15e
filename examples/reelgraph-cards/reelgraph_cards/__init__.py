"""reelgraph-cards: an example third-party plugin package for reelgraph.

Two providers, each its own entry point (see ``pyproject.toml``):

- ``cards`` (:mod:`reelgraph_cards.render`): ``render_shot`` draws a scene
  as a title card, one flat colour and the scene's title;
- ``title_length`` (:mod:`reelgraph_cards.gate`): a ``check_quality`` gate
  that fails when a scene title is too long to read on a card.

``cards.yaml`` beside this file is a spec that uses both.
"""

"""The production roles: director, scriptwriter, visual designer, narrator, reviewer, optimizer.

``offline`` answers every role with rules and no network; :mod:`.llm` holds
the prompts and the role hook implementations that a language-model vendor
plugin (``openai``, ``anthropic``, or a third party's) inherits.
"""

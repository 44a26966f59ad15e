"""The ``elevenlabs`` speech provider: ElevenLabs text to speech with character timings.

Install it with ``pip install 'reelgraph[elevenlabs]'``. Registered through
the entry point ``elevenlabs = "reelgraph.plugins.vendors.elevenlabs:plugin"``
(the instance, not the class; STYLE.md). Loading it only checks that the SDK
is installed; the SDK is imported on the first request, so ``reelgraph
--help`` and specs that do not use ElevenLabs never load it. Without the SDK
the plugin fails to load, softly: ``reelgraph plugins`` shows the ``pip
install`` line, and only a run naming ``elevenlabs`` stops on it.

See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from importlib.util import find_spec

from reelgraph.plugins.vendors.elevenlabs.plugin import INSTALL, ElevenLabsSpeech

__all__ = ["INSTALL", "ElevenLabsSpeech", "plugin"]

try:
    _SDK = find_spec("elevenlabs")
except (ImportError, ValueError):  # a broken or shadowed install
    _SDK = None
if _SDK is None:
    raise ImportError(f"the elevenlabs provider needs the elevenlabs SDK: {INSTALL}")

#: the instance the entry point registers
plugin = ElevenLabsSpeech()

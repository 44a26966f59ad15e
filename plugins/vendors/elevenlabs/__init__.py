"""The ``elevenlabs`` speech provider: ElevenLabs text to speech with character timings.

Install it with ``pip install 'reelgraph[elevenlabs]'``. Registered through
the entry point ``elevenlabs = "reelgraph.plugins.vendors.elevenlabs:plugin"``
(the instance, not the class; STYLE.md). The SDK is an extra, checked (not imported) at load time and imported on the
first request; without it the plugin fails to load, softly, with the ``pip
install`` line (:mod:`reelgraph.plugins.vendors._extras`, the same for every
vendor).

See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from reelgraph.plugins.vendors._extras import require_sdk
from reelgraph.plugins.vendors.elevenlabs.plugin import INSTALL, ElevenLabsSpeech

__all__ = ["INSTALL", "ElevenLabsSpeech", "plugin"]

require_sdk("elevenlabs", "elevenlabs", INSTALL)

#: the instance the entry point registers
plugin = ElevenLabsSpeech()

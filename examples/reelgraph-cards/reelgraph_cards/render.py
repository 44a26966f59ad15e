"""``render_shot`` provider ``cards``: a scene as a flat title card (Pillow).

The frame size comes from the aspect (:data:`reelgraph.models.ASPECT_SIZES`:
1920x1080, 1080x1920 or 1080x1080 pixels). Options: ``background`` and
``foreground``, colours as Pillow names or ``#rrggbb``.
"""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageColor, ImageDraw, ImageFont

from reelgraph import InvalidInputError, hookimpl
from reelgraph.models import ASPECT_SIZES, Scene, Visual

DEFAULTS = {"background": "#1d3557", "foreground": "#f1faee"}


@hookimpl
def render_shot(scene: Scene, aspect: str, options: dict[str, Any], ctx: Any) -> Visual:
    """Draw ``scene.title`` centred on a flat card; a PNG under ``ctx.workdir``.

    Raises:
        InvalidInputError: an unknown aspect, option or colour.
    """
    if aspect not in ASPECT_SIZES:
        raise InvalidInputError(f"cards: aspect {aspect!r} is not one of {', '.join(ASPECT_SIZES)}")
    unknown = set(options) - set(DEFAULTS) - {"language"}  # the shipped specs pass a language
    if unknown:
        raise InvalidInputError(f"cards: unknown option(s) {', '.join(sorted(unknown))}")
    colours = {**DEFAULTS, **{k: v for k, v in options.items() if k in DEFAULTS}}
    try:
        background, foreground = (ImageColor.getrgb(colours[k]) for k in DEFAULTS)
    except ValueError as err:
        raise InvalidInputError(f"cards: {err}") from None
    width, height = ASPECT_SIZES[aspect]
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=height // 12)
    title = scene.title or f"Scene {scene.index + 1}"
    draw.text((width / 2, height / 2), title, fill=foreground, font=font, anchor="mm")
    path = ctx.workdir / f"card-{scene.index:03d}.png"
    image.save(path)
    return Visual(
        scene_index=scene.index,
        path=path,
        width_px=width,
        height_px=height,
        alt_text=f"Title card: {title}",
    )

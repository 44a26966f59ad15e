"""The assembler's picture: one short H.264 segment per scene, joined into one video stream.

A still slide is never encoded frame by frame. Each slide is encoded once as a
short segment (``segment_s``, 0.5 s by default = one GOP, ``-tune
stillimage``, no B-frames); :func:`join_segments` then writes the scenes'
packets into one MP4 video stream with PyAV, repeating each still's segment
up to the scene's exact frame count. Every segment is encoded with the same
codec parameters (checked: the same SPS/PPS), so the join copies packets and
decodes nothing. FIELD.md measured 60 s of a 1080p slide: 26-38 s frame by
frame, 1.4 s with segment copies (2-core machine); the packet join in Python
replaced one ``-stream_loop`` ffmpeg run per scene and the concat demuxer
(0.8 CPU s for a 16-scene README, against 0.17 s).

Burned captions make many pictures of one still (:mod:`._burn`): each is
encoded as one IDR frame (:func:`encode_group`) and its GOP completed, in
the join, by :class:`SkipFrames`, P-frames that repeat whatever picture
precedes them, encoded once per video.

Used by :mod:`reelgraph.plugins.assembly.ffmpeg`.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from reelgraph.errors import FatalError, InvalidInputError

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "KEYFRAME_INTERVAL_S",
    "Segment",
    "SkipFrames",
    "encode_group",
    "encode_segment",
    "join_segments",
    "timescale",
]

#: Seconds between keyframes in every encoded segment. A quality gate can look
#: for black frames by decoding keyframes only (bench: 16 s -> ~4 s on a
#: 6-minute 1080p video); still P-frames stay all skips.
KEYFRAME_INTERVAL_S = 0.5


class SkipFrames:
    """A GOP of a flat grey picture whose P-frames are all skips: "repeat the picture before".

    An H.264 P-frame whose macroblocks are all P_Skip with no neighbour
    moving decodes to its reference picture exactly, whatever that picture
    is (ITU-T H.264 8.4.1.1: the skip motion vector is zero when a neighbour
    is unavailable or still; 8.7.2.1: no deblocking between skipped blocks
    of zero motion). x264 codes a flat picture's P-frames so (73 bytes each
    at 1080p), and with the same codec parameters they carry the same frame
    numbers as any GOP's; so any IDR frame followed by them is a valid GOP
    showing that IDR's picture for ``gop`` frames. One encode of ``gop``
    flat frames at the video's size (``path``) serves every burned caption
    picture of the video, which then needs its IDR frame alone.

    The first :func:`encode_group` to :meth:`claim` it encodes it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._claimed = False

    def claim(self) -> bool:
        """True once, for the caller that must encode the frames."""
        with self._lock:
            first, self._claimed = not self._claimed, True
            return first


@dataclass(frozen=True, slots=True)
class Segment:
    """Encode ``frames`` frames of ``source`` into ``out``; the scene lasts ``total`` frames.

    A still (``kind="image"``) encodes one short segment that the join
    repeats; a clip (``kind="video"``) encodes all ``total`` frames, from its
    frame ``skip``. With ``into``, the segment is a crossfade of ``total``
    frames: ``source`` (from ``skip``) dissolves into the first frames of
    ``into`` (ffmpeg ``xfade=transition=fade``), encoded in full.
    """

    scene: int
    source: Path
    kind: str  # "image" or "video"
    frames: int
    total: int
    out: Path
    #: frames of a clip skipped before its first (at ``fps``): the part shown earlier
    skip: int = 0
    #: a crossfade segment: ``source`` (from ``skip``) fades into ``into``'s first frames
    into: Path | None = None
    into_kind: str = "image"
    #: stills (and fades between stills) with the quick motion search (``subme=0``);
    #: it changes the PPS (x264 turns psy-rd off, which moves the chroma QP offset),
    #: so a video either encodes every segment with it or none
    quick_still: bool = True
    #: burned captions: several stills' pictures encoded into one ``out`` by
    #: :func:`encode_group`, one IDR frame each; this piece shows picture ``offset``
    #: (its ``frames`` packets from there: 1) followed by ``skips``' P-frames
    offset: int = 0
    grouped: bool = False
    #: on a group's first piece: its pictures in ``offset`` order, RGB images of one
    #: size, drawn as the encoder takes them (in the encoding worker; ``_burn``)
    pictures: Callable[[], Iterable[Image.Image]] | None = field(
        default=None, compare=False, repr=False
    )
    #: the all-skip P-frames that complete this piece's GOP after its IDR frame
    skips: SkipFrames | None = field(default=None, compare=False, repr=False)
    #: encodes this segment instead of :func:`encode_segment`'s command, with the same
    #: arguments (burned captions overlaid on a clip or a crossfade, ``_burn_clips``)
    encode: Callable[..., None] | None = field(default=None, compare=False, repr=False)


def timescale(fps: int) -> int:
    """The MP4 video track's ticks per second: 90 kHz when ``fps`` divides it."""
    return 90_000 if 90_000 % fps == 0 else fps * 1000


# Tag BT.709 on the frames: the encoder takes colour properties from them.
_BT709 = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"


def _fit(size: tuple[int, int]) -> str:
    """Scale and letterbox to ``size``, square pixels, yuv420p tagged BT.709, last frame held."""
    width, height = size
    return (
        f"scale={width}:{height}:force_original_aspect_ratio=decrease"
        ":out_color_matrix=bt709:out_range=tv,"
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,"
        f"{_BT709},tpad=stop=-1:stop_mode=clone"  # hold the last frame; -frames:v cuts exactly
    )


def _input(path: Path, kind: str, fps: int) -> list[str]:
    if kind == "image":
        # One decoded picture, cloned by tpad: the PNG is decoded and scaled once.
        return ["-f", "image2", "-pattern_type", "none", "-framerate", str(fps), "-i", str(path)]
    return ["-i", str(path)]


def _skip(kind: str, skip: int) -> str:
    """Drop a clip's first ``skip`` frames; past its end, its last frame is held."""
    if kind == "image" or not skip:
        return ""
    return f"tpad=stop=-1:stop_mode=clone,trim=start_frame={skip},setpts=PTS-STARTPTS,"


def _encode_cmd(
    ffmpeg: str, seg: Segment, size: tuple[int, int], fps: int, crf: int, preset: str, gop: int
) -> list[str]:
    """One segment; every segment shares these codec parameters so they join by copy."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    cmd += _input(seg.source, seg.kind, fps)
    if seg.into is not None:
        # ffmpeg filters, xfade: "fade" over the whole segment, both inputs at fps and
        # size (https://ffmpeg.org/ffmpeg-filters.html#xfade); each side cut to `total`
        cmd += _input(seg.into, seg.into_kind, fps)
        cut = f"trim=end_frame={seg.total},setpts=PTS-STARTPTS"
        graph = (
            f"[0:v]fps={fps},{_skip(seg.kind, seg.skip)}{_fit(size)},{cut}[a];"
            f"[1:v]fps={fps},{_fit(size)},{cut}[b];"
            f"[a][b]xfade=transition=fade:duration={seg.total / fps:.6f}:offset=0,"
            f"format=yuv420p,{_BT709}[v]"  # xfade may choose another pixel format
        )
        cmd += ["-filter_complex", graph, "-map", "[v]"]
    else:
        fit = _fit(size)
        if seg.kind != "image":
            fit = f"fps={fps},{_skip(seg.kind, seg.skip)}" + fit
        cmd += ["-vf", fit]
    cmd += ["-an", "-sn", "-dn", "-frames:v", str(seg.frames)]
    cmd += ["-r", str(fps), "-c:v", "libx264", "-profile:v", "high"]
    cmd += ["-preset", preset, "-tune", "stillimage", "-crf", str(crf), "-threads", "1"]
    # Closed GOPs inside the segment; no B-frames, no lookahead, one reference:
    # P-frames of a still are all skips, which halves their cost at the same SSIM.
    x264 = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:rc-lookahead=0:mbtree=0:ref=1"
    if seg.quick_still and seg.kind == "image" and (seg.into is None or seg.into_kind == "image"):
        # Full-pixel search without refinement: a still's P-frames only need to find
        # "no motion". Measured on five README slides at 1080p: 0.26 -> 0.14 CPU s per
        # segment, size within 4 %, PSNR within 0.5 dB (52-60 dB). It changes the PPS
        # (the chroma QP offset x264 derives from psy-rd), so a video with clips encodes
        # its stills without it (Segment.quick_still); a crossfade between two stills
        # uses it too (0.72 -> 0.5 CPU s for 12 frames at 1080p, measured).
        x264 += ":subme=0"
    cmd += ["-x264-params", x264, "-video_track_timescale", str(timescale(fps))]
    return [*cmd, "-f", "mp4", str(seg.out)]


def encode_segment(
    ffmpeg: str, seg: Segment, size: tuple[int, int], fps: int, crf: int, preset: str, gop: int
) -> None:
    """Encode ``seg`` to ``seg.out``: H.264 High, yuv420p, BT.709, ``size`` pixels, ``fps``.

    ``gop``: frames between keyframes. Images are decoded once and held;
    clips are resampled to ``fps`` and held on their last frame when short.

    Raises:
        InvalidInputError: ffmpeg cannot read or encode the source.
    """
    if seg.encode is not None:
        seg.encode(ffmpeg, seg, size, fps, crf, preset, gop)
        return
    cmd = _encode_cmd(ffmpeg, seg, size, fps, crf, preset, gop)
    _run(cmd, f"{seg.source} (scene {seg.scene})")


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        raise InvalidInputError(
            f"ffmpeg failed while encoding {what} (exit {done.returncode}): {tail}"
        )


def _skips_cmd(
    ffmpeg: str,
    first: Segment,
    size: tuple[int, int],
    fps: int,
    crf: int,
    preset: str,
    gop: int,
) -> list[str]:
    """Encode :class:`SkipFrames`: ``gop`` frames of flat grey, with ``first``'s codec parameters."""
    assert first.skips is not None
    flat = replace(first, frames=gop, out=first.skips.path)
    cmd = _encode_cmd(ffmpeg, flat, size, fps, crf, preset, gop)
    at = cmd.index("-f")  # the image input, replaced by ffmpeg's colour source
    cmd[at : at + 8] = ["-f", "lavfi", "-i", f"color=c=gray:s={size[0]}x{size[1]}:r={fps}"]
    return cmd


def encode_group(
    ffmpeg: str,
    group: Sequence[Segment],
    size: tuple[int, int],
    fps: int,
    crf: int,
    preset: str,
    gop: int,
) -> None:
    """Encode a group's pictures in one ffmpeg run, each as one IDR frame, into ``group[0].out``.

    Burned captions: ``group[0].pictures()`` gives the pictures (RGB, one
    size), drawn as they are piped to ffmpeg as raw frames (no image file
    written or decoded); picture ``k`` becomes the IDR frame at packet
    ``k`` (``-force_key_frames expr:1``, ``-forced-idr``), the pieces that
    show it have ``offset`` ``k``. :func:`join_segments` completes each
    piece's GOP with the :class:`SkipFrames` P-frames, which the first group
    to claim them encodes (one more ffmpeg run per video, alongside). Same
    codec parameters as :func:`encode_segment` (the join checks the SPS/PPS).

    Raises:
        InvalidInputError: ffmpeg cannot encode the pictures, or drawing one
            failed (no installed font has a cue's character).
        FatalError: the pictures are not as many as the pieces' offsets say.
    """
    first = group[0]
    if first.pictures is None or first.skips is None:
        raise FatalError(f"the captioned stills of scene {first.scene} have no pictures to encode")
    flat = None
    if first.skips.claim():
        cmd = _skips_cmd(ffmpeg, first, size, fps, crf, preset, gop)
        flat = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
    try:
        _encode_pictures(ffmpeg, group, size, fps, crf, preset, gop)
    finally:
        if flat is not None:
            _, stderr = flat.communicate()
    if flat is not None and flat.returncode != 0:
        tail = "\n".join(stderr.decode("utf-8", "replace").strip().splitlines()[-6:])
        raise InvalidInputError(
            f"ffmpeg failed while encoding the skip frames of the captioned stills "
            f"(exit {flat.returncode}): {tail}"
        )


def _encode_pictures(
    ffmpeg: str,
    group: Sequence[Segment],
    size: tuple[int, int],
    fps: int,
    crf: int,
    preset: str,
    gop: int,
) -> None:
    """The pictures of :func:`encode_group`, drawn and piped to one ffmpeg run."""
    first = group[0]
    assert first.pictures is not None
    count = max(seg.offset for seg in group) + 1
    pictures = iter(first.pictures())
    picture = next(pictures, None)
    if picture is None:
        raise FatalError(f"the captioned stills of scene {first.scene}: no picture drawn")
    width, height = picture.size
    cmd = _encode_cmd(ffmpeg, replace(first, frames=count), size, fps, crf, preset, gop)
    at = cmd.index("-f")  # the image input, replaced by raw RGB frames on stdin
    cmd[at : at + 8] = ["-f", "rawvideo", "-pixel_format", "rgb24", "-video_size"]
    cmd[at + 5 : at + 5] = [f"{width}x{height}", "-framerate", str(fps), "-i", "pipe:0"]
    at = cmd.index("-x264-params")
    cmd[at:at] = ["-force_key_frames", "expr:1", "-forced-idr", "1"]
    sent = 0
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=errors)
        assert proc.stdin is not None
        try:
            while picture is not None:
                if picture.size != (width, height):
                    raise FatalError(
                        f"the captioned stills of scene {first.scene} differ in size "
                        f"({picture.size} after {(width, height)}); group stills of one size"
                    )
                rgb = picture if picture.mode == "RGB" else picture.convert("RGB")
                proc.stdin.write(rgb.tobytes())
                sent += 1
                picture = next(pictures, None)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg stopped: its exit status and message are reported below
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        code = proc.wait()
        errors.seek(0)
        message = errors.read().decode("utf-8", "replace")
    if code != 0:
        tail = "\n".join(message.strip().splitlines()[-6:])
        raise InvalidInputError(
            f"ffmpeg failed while encoding the captioned stills of scene {first.scene} "
            f"({first.source}) (exit {code}): {tail}"
        )
    if sent != count:
        raise FatalError(
            f"the captioned stills of scene {first.scene}: {sent} pictures drawn, {count} expected"
        )


def join_segments(segments: Sequence[Segment], out: Path, fps: int) -> int:
    """Write the scenes' video, in order, into one MP4 (video only) by copying packets.

    Scene ``i`` gets ``segments[i].total`` frames: a segment shorter than that
    is repeated and the last repeat cut; the cut is a valid stream because a
    segment starts with a keyframe and has no B-frames (each frame refers
    only to earlier ones of its own repeat). A burned caption's piece repeats
    its picture's IDR frame followed by the :class:`SkipFrames` P-frames.
    Timestamps are whole frames at ``fps`` in a :func:`timescale` time base.

    Returns:
        The number of frames written.

    Raises:
        FatalError: the segments differ in their H.264 parameter sets (a
            copy join would not decode) or one has no video packet.
    """
    import av

    extradata: bytes | None = None
    written = 0
    opened: dict[Path, list[tuple[bytes, bool]]] = {}  # the skip frames and the last file
    skips = {seg.skips.path for seg in segments if seg.skips is not None}
    with av.open(str(out), "w", format="mp4") as container:
        stream = None

        def packets_of(path: Path, scene: int) -> list[tuple[bytes, bool]]:
            nonlocal stream, extradata
            if path in opened:
                return opened[path]
            with av.open(str(path)) as source:
                video = source.streams.video[0]
                params = bytes(video.codec_context.extradata or b"")
                if stream is None:
                    stream = container.add_stream_from_template(video)
                    stream.time_base = Fraction(1, timescale(fps))
                    extradata = params
                elif params != extradata:
                    raise FatalError(
                        f"the video segment of scene {scene} was encoded with other "
                        "H.264 parameters than scene 0's; the scenes cannot be joined by copy"
                    )
                packets = [(bytes(p), p.is_keyframe) for p in source.demux(video) if p.size]
            for older in [p for p in opened if p not in skips]:
                del opened[older]
            opened[path] = packets
            return packets

        for seg in segments:
            packets = packets_of(seg.out, seg.scene)
            if seg.grouped:
                packets = packets[seg.offset : seg.offset + seg.frames]
                if not packets or not packets[0][1]:
                    raise FatalError(
                        f"the captioned stills of scene {seg.scene}: no keyframe at {seg.offset}"
                    )
            if seg.skips is not None:
                tail = packets_of(seg.skips.path, seg.scene)
                if not tail or not tail[0][1] or any(key for _, key in tail[1:]):
                    raise FatalError(f"the skip frames {seg.skips.path} are not one GOP")
                packets = packets[:1] + tail[1:]
            if not packets:
                raise FatalError(f"the video segment of scene {seg.scene} has no frames")
            assert stream is not None  # added with the first file
            for n in range(seg.total):
                data, keyframe = packets[n % len(packets)]
                packet = av.Packet(data)
                packet.stream = stream
                packet.time_base = Fraction(1, fps)
                packet.pts = packet.dts = written + n
                packet.duration = 1
                packet.is_keyframe = keyframe
                container.mux(packet)
            written += seg.total
    return written

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

Used by :mod:`reelgraph.plugins.assembly.ffmpeg`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from reelgraph.errors import FatalError, InvalidInputError

__all__ = [
    "KEYFRAME_INTERVAL_S",
    "Segment",
    "encode_group",
    "encode_segment",
    "join_segments",
    "timescale",
]

#: Seconds between keyframes in every encoded segment. A quality gate can look
#: for black frames by decoding keyframes only (bench: 16 s -> ~4 s on a
#: 6-minute 1080p video); still P-frames stay all skips.
KEYFRAME_INTERVAL_S = 0.5


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
    #: burned captions: several stills' pieces encoded into one ``out`` by
    #: :func:`encode_group`; this piece's ``frames`` start at packet ``offset``
    offset: int = 0
    grouped: bool = False
    #: run in the encoding worker before the encode (draws a burned caption's still)
    prepare: Callable[[], object] | None = field(default=None, compare=False, repr=False)
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
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        raise InvalidInputError(
            f"ffmpeg failed while encoding {seg.source} (scene {seg.scene}) "
            f"(exit {done.returncode}): {tail}"
        )


def _concat_path(path: Path) -> str:
    """``path`` quoted for an ffconcat ``file`` line (https://ffmpeg.org/ffmpeg-formats.html#concat-1)."""
    return "'" + str(path).replace("'", "'\\''") + "'"


def encode_group(
    ffmpeg: str,
    group: Sequence[Segment],
    size: tuple[int, int],
    fps: int,
    crf: int,
    preset: str,
    gop: int,
) -> None:
    """Encode still pieces that share one ``out`` in one ffmpeg run, each from a forced IDR frame.

    Burned captions cut a still into pieces (one per cue and gap); piece
    ``j`` is ``group[j].frames`` frames of ``group[j].source`` starting at
    packet ``group[j].offset`` (the sum of the earlier pieces' frames). The
    pieces are read with the concat demuxer (each image lasts its frames /
    ``fps`` seconds; https://ffmpeg.org/ffmpeg-formats.html#concat-1), each
    picture scaled once and repeated by the ``fps`` filter, and every piece
    starts with an IDR frame (``-force_key_frames`` at its first frame,
    ``-forced-idr``), so :func:`join_segments` repeats a piece alone by
    copying its packets, as it does a segment of its own. One run instead of
    one per piece saves an ffmpeg start, an x264 set-up and an MP4 per piece.
    Same codec parameters as :func:`encode_segment` (the join checks the
    SPS/PPS). ``prepare`` of each piece runs first, in this (worker) thread.

    Raises:
        InvalidInputError: ffmpeg cannot read or encode a piece's still.
    """
    for seg in group:
        if seg.prepare is not None:
            seg.prepare()
    first = group[0]
    listing = first.out.with_suffix(".ffconcat")
    lines = ["ffconcat version 1.0"]
    for seg in group:
        lines += [f"file {_concat_path(seg.source)}", f"duration {seg.frames / fps:.6f}"]
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frames = sum(seg.frames for seg in group)
    cmd = _encode_cmd(ffmpeg, first, size, fps, crf, preset, gop)
    at = cmd.index("-f")  # the image input of encode_segment, replaced by the listing
    cmd[at : at + 8] = ["-f", "concat", "-safe", "0", "-i", str(listing)]
    vf = cmd.index("-vf") + 1
    # one frame per piece in; fps repeats it, tpad holds the last (concat's last duration)
    cmd[vf] = _fit(size).replace(",tpad=", f",fps={fps},tpad=")
    cmd[cmd.index("-frames:v") + 1] = str(frames)
    keys = ",".join(f"{seg.offset / fps:.6f}" for seg in group)
    at = cmd.index("-x264-params")
    cmd[at:at] = ["-force_key_frames", keys, "-forced-idr", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        raise InvalidInputError(
            f"ffmpeg failed while encoding the captioned stills of scene {first.scene} "
            f"({first.source}) (exit {done.returncode}): {tail}"
        )


def join_segments(segments: Sequence[Segment], out: Path, fps: int) -> int:
    """Write the scenes' video, in order, into one MP4 (video only) by copying packets.

    Scene ``i`` gets ``segments[i].total`` frames: a segment shorter than that
    is repeated and the last repeat cut; the cut is a valid stream because a
    segment starts with a keyframe and has no B-frames (each frame refers
    only to earlier ones of its own repeat). Timestamps are whole frames at
    ``fps`` in a :func:`timescale` time base.

    Returns:
        The number of frames written.

    Raises:
        FatalError: the segments differ in their H.264 parameter sets (a
            copy join would not decode) or one has no video packet.
    """
    import av

    extradata: bytes | None = None
    written = 0
    opened: tuple[Path, list[tuple[bytes, bool]]] | None = None  # a group's file, read once
    with av.open(str(out), "w", format="mp4") as container:
        stream = None
        for seg in segments:
            if opened is None or opened[0] != seg.out:
                with av.open(str(seg.out)) as source:
                    video = source.streams.video[0]
                    params = bytes(video.codec_context.extradata or b"")
                    if stream is None:
                        stream = container.add_stream_from_template(video)
                        stream.time_base = Fraction(1, timescale(fps))
                        extradata = params
                    elif params != extradata:
                        raise FatalError(
                            f"the video segment of scene {seg.scene} was encoded with other "
                            "H.264 parameters than scene 0's; the scenes cannot be joined by copy"
                        )
                    opened = (
                        seg.out,
                        [(bytes(p), p.is_keyframe) for p in source.demux(video) if p.size],
                    )
            packets = opened[1]
            if seg.grouped:
                packets = packets[seg.offset : seg.offset + seg.frames]
            if seg.grouped and (not packets or not packets[0][1]):
                raise FatalError(
                    f"the captioned stills of scene {seg.scene}: no keyframe at frame {seg.offset}"
                )
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

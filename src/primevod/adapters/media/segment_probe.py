"""What the first packet of one init + media segment pair says: whether it is a keyframe,
whether it decodes, and the codec string and picture size of the stream."""

from __future__ import annotations

import io
from dataclasses import dataclass

from primevod.core.codec_strings import video_codec_string


@dataclass
class SegmentProbe:
    keyframe: bool = False
    decoded: bool | None = None  # None: the bytes do not even demux
    codec: str | None = None
    resolution: tuple[int, int] | None = None


def first_packet(data: bytes, kind: str, *, decode: bool = True) -> SegmentProbe:
    """Whether an init + media segment pair starts with a keyframe and (when `decode`)
    decodes, and the codec string and picture size it carries. Without PyAV (the AWS
    Lambda bundle leaves it out) nothing is known: the caller reads what it can from the
    fragment headers."""
    result = SegmentProbe()
    if kind == "video":  # from the init segment's boxes: known with or without PyAV
        result.codec = video_codec_string(data)
    try:
        import av
        import av.error
    except ImportError:
        return result
    try:
        with av.open(io.BytesIO(data), mode="r", format="mp4") as container:
            streams = container.streams.video if kind == "video" else container.streams.audio
            if not streams:
                return result
            stream = streams[0]
            ctx = stream.codec_context
            ctx.thread_count = 1  # one frame per segment: threads cost more than they give
            if kind == "video":
                result.resolution = (ctx.width, ctx.height)
            first = True
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if first:
                    result.keyframe = bool(packet.is_keyframe)
                    first = False
                    if not decode:
                        result.decoded = True  # demuxed; not asked to decode
                        return result
                for _ in packet.decode():
                    result.decoded = True
                    return result
            if first:
                return result
            # a short last segment may hold fewer packets than the decoder's delay: flush
            frames = any(True for _ in ctx.decode(None))
            # a tail audio packet can decode to zero samples (encoder padding trimmed):
            # for audio, packets that decode without error are enough
            result.decoded = frames or kind != "video"
            return result
    except (av.error.FFmpegError, ValueError):
        return result

"""Folding a runt segment: the DASH timeline edit and the fMP4 join, on real FFmpeg output."""

from __future__ import annotations

import io

import av

from primevod.core.dash import fold_last_segment
from primevod.core.fmp4 import join_segments

MPD = """<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static">
\t<Period>
\t\t<AdaptationSet contentType="video">
\t\t\t<Representation id="0" bandwidth="1">
\t\t\t\t<SegmentTemplate timescale="1000" media="c-$Number$.m4s" startNumber="1">
\t\t\t\t\t<SegmentTimeline>
\t\t\t\t\t\t<S t="0" d="2000" r="3" />
\t\t\t\t\t\t<S d="40" />
\t\t\t\t\t</SegmentTimeline>
\t\t\t\t</SegmentTemplate>
\t\t\t</Representation>
\t\t\t<Representation id="1" bandwidth="1">
\t\t\t\t<SegmentTemplate timescale="1000" media="c-$Number$.m4s" startNumber="1">
\t\t\t\t\t<SegmentTimeline>
\t\t\t\t\t\t<S t="0" d="2000" />
\t\t\t\t\t\t<S d="30" />
\t\t\t\t\t</SegmentTimeline>
\t\t\t\t</SegmentTemplate>
\t\t\t</Representation>
\t\t</AdaptationSet>
\t</Period>
</MPD>
"""


def test_timeline_fold_touches_only_its_representation() -> None:
    text = fold_last_segment(MPD, "0")
    zero, one = text.split('<Representation id="1"')
    assert '<S t="0" d="2000" r="2" />' in zero and '<S d="2040" />' in zero
    assert '<S d="40" />' not in zero
    assert '<S t="0" d="2000" />' in one and '<S d="30" />' in one  # untouched
    once_more = fold_last_segment(text, "1")
    assert '<S t="0" d="2030" />' in once_more.split('<Representation id="1"')[1]


def test_joined_segment_decodes_every_sample(tmp_path, clip) -> None:
    """Two real CMAF audio segments joined: one styp/sidx, both fragments, all samples."""
    import subprocess

    from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe

    out = tmp_path / "pkg"
    out.mkdir()
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=3",
            "-c:a",
            "aac",
            "-f",
            "dash",
            "-seg_duration",
            "1",
            "-dash_segment_type",
            "mp4",
            "-init_seg_name",
            "init.m4s",
            "-media_seg_name",
            "c-$Number$.m4s",
            str(out / "a.mpd"),
        ],
        check=True,
    )
    segments = sorted(out.glob("c-*.m4s"))
    assert len(segments) >= 2
    init = (out / "init.m4s").read_bytes()

    def samples(*parts: bytes) -> int:
        with av.open(io.BytesIO(init + b"".join(parts)), format="mp4") as container:
            return sum(frame.samples for frame in container.decode(audio=0))

    first, second = segments[-2].read_bytes(), segments[-1].read_bytes()
    joined = join_segments(first, second)
    assert joined.count(b"styp") == 1 and joined.count(b"sidx") == 1
    assert samples(joined) == samples(first, second) > 0

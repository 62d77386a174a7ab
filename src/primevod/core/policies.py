"""Built-in ladder policies. Each is given for a 16:9 landscape source; the planner fits the
boxes to the source's own aspect ratio and orientation (see docs/media.md)."""

from __future__ import annotations

from typing import Any

from primevod.core.errors import MediaError
from primevod.core.ladder import (
    AutoLadderConfig,
    LadderPolicy,
    RateControl,
    RungTemplate,
    with_codecs,
)

# Apple HLS authoring specification, H.264 16:9 ladder (target average bitrates).
APPLE = LadderPolicy(
    name="apple",
    description="Apple HLS authoring spec H.264 ladder: 9 rungs, 145 kb/s to 7.8 Mb/s, VBR",
    rate_control=RateControl.VBR,
    segment_seconds=6.0,
    rungs=[
        RungTemplate(
            width=416, height=234, bitrate_kbps=145, profile="main", audio_bitrate_kbps=64
        ),
        RungTemplate(
            width=640, height=360, bitrate_kbps=365, profile="main", audio_bitrate_kbps=64
        ),
        RungTemplate(width=768, height=432, bitrate_kbps=730, audio_bitrate_kbps=96),
        RungTemplate(width=768, height=432, bitrate_kbps=1100, audio_bitrate_kbps=96),
        RungTemplate(width=960, height=540, bitrate_kbps=2000, audio_bitrate_kbps=128),
        RungTemplate(width=1280, height=720, bitrate_kbps=3000, audio_bitrate_kbps=128),
        RungTemplate(width=1280, height=720, bitrate_kbps=4500, audio_bitrate_kbps=128),
        RungTemplate(width=1920, height=1080, bitrate_kbps=6000, audio_bitrate_kbps=128),
        RungTemplate(width=1920, height=1080, bitrate_kbps=7800, audio_bitrate_kbps=128),
    ],
)

# "Video on Demand on AWS" solution's QVBR ladder, QVBR quality level -> capped CRF.
AWS_VOD = LadderPolicy(
    name="aws-vod",
    description="Video on Demand on AWS QVBR ladder as capped CRF: 5 rungs, 3 s segments",
    rate_control=RateControl.CAPPED_CRF,
    segment_seconds=3.0,
    gop_seconds=3.0,
    rungs=[
        RungTemplate(
            width=480,
            height=270,
            bitrate_kbps=400,
            quality=7,
            profile="main",
            audio_bitrate_kbps=64,
        ),
        RungTemplate(
            width=640,
            height=360,
            bitrate_kbps=1500,
            quality=7,
            profile="main",
            audio_bitrate_kbps=64,
        ),
        RungTemplate(width=960, height=540, bitrate_kbps=3500, quality=8, audio_bitrate_kbps=96),
        RungTemplate(width=1280, height=720, bitrate_kbps=6000, quality=8, audio_bitrate_kbps=96),
        RungTemplate(width=1920, height=1080, bitrate_kbps=8500, quality=9, audio_bitrate_kbps=128),
    ],
)

# prime-vod's default: capped CRF (easy scenes cost less), caps close to Apple's top rungs
# per size, 4 s segments with 2 s GOPs, two audio renditions, up to 4K.
DEFAULT = LadderPolicy(
    name="default",
    description="Capped-CRF ladder: 234p to 2160p, quality 7-8, 4 s segments, 2 s GOPs",
    rate_control=RateControl.CAPPED_CRF,
    segment_seconds=4.0,
    rungs=[
        RungTemplate(
            width=416,
            height=234,
            bitrate_kbps=400,
            quality=7,
            profile="main",
            audio_bitrate_kbps=64,
        ),
        RungTemplate(
            width=640,
            height=360,
            bitrate_kbps=900,
            quality=7,
            profile="main",
            audio_bitrate_kbps=64,
        ),
        RungTemplate(width=960, height=540, bitrate_kbps=2000, quality=8, audio_bitrate_kbps=128),
        RungTemplate(width=1280, height=720, bitrate_kbps=4000, quality=8, audio_bitrate_kbps=128),
        RungTemplate(width=1920, height=1080, bitrate_kbps=7000, quality=8, audio_bitrate_kbps=128),
        RungTemplate(
            width=2560, height=1440, bitrate_kbps=12000, quality=8, audio_bitrate_kbps=128
        ),
        RungTemplate(
            width=3840, height=2160, bitrate_kbps=20000, quality=8, audio_bitrate_kbps=128
        ),
    ],
)

# Per-title ladder: probe encodes of samples of the title measure bitrate against VMAF at a
# few resolutions; the rungs (size, CRF, cap) come from the upper envelope of those curves
# (core/quality.py). The default ladder's rungs stand in wherever no analysis is possible
# (planning without the file, audio-only sources).
AUTO = DEFAULT.model_copy(
    update={
        "name": "auto",
        "description": "Per-title ladder from probe encodes: capped CRF, top rung at VMAF 95",
        "auto": AutoLadderConfig(),
        # the per-title ladder's small rungs cost little to encode: one preset slower there
        # (measured -4 to -7 % bits at 360p and under, see docs/quality.md)
        "small_rung_slower_presets": 1,
    }
)

POLICIES: dict[str, LadderPolicy] = {p.name: p for p in (DEFAULT, APPLE, AWS_VOD, AUTO)}


def get_policy(name: str) -> LadderPolicy:
    try:
        return POLICIES[name]
    except KeyError:
        known = ", ".join(sorted(POLICIES))
        raise MediaError(
            "ladder.unknown_policy", f"no ladder policy {name!r} (known: {known})"
        ) from None


def asset_policy(
    metadata: dict[str, Any], default_ladder: str, default_codecs: str
) -> LadderPolicy:
    """The policy an asset is encoded with: its own `ladder` and `codecs` (set when it was
    submitted, e.g. `primevod process --codecs`) or the deployment's defaults."""
    policy = get_policy(str(metadata.get("ladder") or default_ladder))
    return with_codecs(policy, str(metadata.get("codecs") or default_codecs))

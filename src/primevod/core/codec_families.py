"""Codec families of a ladder: `h264` (every device), `hevc` and `av1` beside it. Which
families a title is encoded to, and how a family's rungs relate to the H.264 ones. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from primevod.core.errors import MediaError


class CodecFamily(StrEnum):
    H264 = "h264"
    HEVC = "hevc"
    AV1 = "av1"


# H.264 first: the fallback every player can take; then the order players prefer them
FAMILY_ORDER: tuple[CodecFamily, ...] = (CodecFamily.H264, CodecFamily.HEVC, CodecFamily.AV1)
# a policy's own families when nothing asks for more
DEFAULT_CODECS: tuple[CodecFamily, ...] = (CodecFamily.H264,)
# what every title gets unless PRIMEVOD_CODECS or --codecs says otherwise: AV1 beside H.264
# (HEVC is opt-in because of its patent licensing; docs/media.md)
PRODUCT_CODECS: tuple[CodecFamily, ...] = (CodecFamily.H264, CodecFamily.AV1)

# Bits a family needs for the H.264 rung's quality at the same size. A starting point from
# published codec comparisons (x265 ~30 %, SVT-AV1 ~40 % below x264 at equal quality), to be
# replaced by each codec's own convex hull measured per title (stage 2 of issue 20).
EFFICIENCY: dict[CodecFamily, float] = {
    CodecFamily.H264: 1.0,
    CodecFamily.HEVC: 0.7,
    CodecFamily.AV1: 0.6,
}

# A capped-CRF rung's CRF in each encoder's scale for about the x264 CRF's quality, as
# (slope, offset): x265's default 28 is documented as about x264's 23; SVT-AV1's 0-63 scale
# is about half as steep as x264's (12 CRF steps halve its bitrate where x264's quarter it,
# measured on the benchmark titles' probes), and its CRF 27 and 51 score about as x264's
# 19 and 31. The auto ladder's probes span each scale with these; its rungs take the CRF
# the probes measured.
CRF_SCALE: dict[CodecFamily, tuple[int, int]] = {
    CodecFamily.H264: (1, 0),
    CodecFamily.HEVC: (1, 5),
    CodecFamily.AV1: (2, -11),
}
CRF_MAX: dict[CodecFamily, int] = {
    CodecFamily.H264: 51,
    CodecFamily.HEVC: 51,
    CodecFamily.AV1: 63,
}

# SVT-AV1's preset (higher: faster) for rungs of 720p's pixels and more; smaller rungs are
# cheap (a 432p rung has a third of 720p's pixels) and take one preset slower, which saves
# more bits there. 9 meets the wall-time goal on the noisy title, 8 does not; 10 and up are
# SVT-AV1's tooling presets (docs/quality.md).
AV1_PRESET = 9
AV1_FAST_PIXELS = 1280 * 720


def av1_preset_for(pixels: int, preset: int = AV1_PRESET) -> int:
    """The SVT-AV1 preset of a rung of `pixels`: `preset`, one slower under 720p's pixels."""
    return preset if pixels >= AV1_FAST_PIXELS else preset - 1


# RFC 6381 sample entry of each family as players see it (MediaSource.isTypeSupported)
SAMPLE_ENTRY: dict[CodecFamily, str] = {
    CodecFamily.H264: "avc1",
    CodecFamily.HEVC: "hvc1",
    CodecFamily.AV1: "av01",
}


def parse_codecs(value: str | Iterable[str] | None) -> tuple[CodecFamily, ...]:
    """The families asked for ("h264,av1" or a list), in FAMILY_ORDER, H.264 always among
    them; an unknown name is a request.invalid error that lists the known ones."""
    if value is None:
        return DEFAULT_CODECS
    names = value.split(",") if isinstance(value, str) else list(value)
    asked: set[CodecFamily] = {CodecFamily.H264}
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        try:
            asked.add(CodecFamily(name))
        except ValueError:
            known = ", ".join(f.value for f in FAMILY_ORDER)
            raise MediaError(
                "request.invalid", f"unknown codec {raw.strip()!r} (known: {known})"
            ) from None
    return tuple(f for f in FAMILY_ORDER if f in asked)


def codecs_text(families: Iterable[str]) -> str:
    return ",".join(str(f) for f in families)


def configured_codecs(option: str | None, setting: str | None) -> str:
    """The families of one call: its option, else the deployment's PRIMEVOD_CODECS, else
    the product default; validated and normalised ("av1" -> "h264,av1")."""
    return codecs_text(parse_codecs(option or setting or codecs_text(PRODUCT_CODECS)))


def family_crf(family: CodecFamily, h264_crf: int) -> int:
    """The family's CRF for about the quality of this x264 CRF."""
    slope, offset = CRF_SCALE[family]
    return max(0, min(CRF_MAX[family], slope * h264_crf + offset))


def family_of_codec_string(codecs: str) -> CodecFamily | None:
    """The family of an RFC 6381 string ("av01.0.04M.08" -> av1); None for audio."""
    entry = codecs.strip().lower()[:4]
    for family, name in SAMPLE_ENTRY.items():
        if entry == name or (family is CodecFamily.HEVC and entry == "hev1"):
            return family
        if family is CodecFamily.H264 and entry == "avc3":
            return family
    return None


def ladder_families(ladder: dict[str, object] | None) -> list[str]:
    """The codec families of a stored ladder (an asset's `ladder` JSON), H.264 first; a
    ladder written before families existed is H.264 alone."""
    rungs = ladder.get("rungs") if isinstance(ladder, dict) else None
    found = {
        str(r.get("codec") or CodecFamily.H264)
        for r in (rungs if isinstance(rungs, list) else [])
        if isinstance(r, dict)
    }
    return [str(f) for f in FAMILY_ORDER if f in found] or [str(CodecFamily.H264)]

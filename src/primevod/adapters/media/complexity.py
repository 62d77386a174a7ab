"""Complexity analysis for the `auto` ladder: a cheap scan of the whole title for scene cuts
and motion, a few representative samples spread over it, probe encodes of those samples at
a few resolutions and CRFs (one FFmpeg run), their VMAF against the source (one more run),
and the result cached per source checksum.

The scan lives in `complexity_scan`, the probe encodes in `complexity_probes`; their public
names are re-exported here, the import path the rest of the project uses."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from primevod.adapters.media.checksum import sha256_of
from primevod.adapters.media.complexity_probes import (
    PROBE_PRESET_FLOOR,
    STILL_MAX_BPP,
    probe_preset,
    run_probes,
    still_is_cheap,
)
from primevod.adapters.media.complexity_scan import (
    SCAN_SIZE,
    SCAN_WINDOW_SECONDS,
    STILL_CHANGE,
    STILL_GAP,
    is_static,
    pick_samples,
    scan,
    scan_title,
    scan_windows,
)
from primevod.adapters.media.quality_meter import default_metric
from primevod.core.codec_families import CodecFamily, parse_codecs
from primevod.core.errors import MediaError
from primevod.core.ladder import AutoLadderConfig, output_frame_rate
from primevod.core.probe import ProbeResult
from primevod.core.quality import ComplexityAnalysis

__all__ = [
    "ANALYSIS_VERSION",
    "PROBE_PRESET_FLOOR",
    "SCAN_SIZE",
    "SCAN_WINDOW_SECONDS",
    "STILL_CHANGE",
    "STILL_GAP",
    "STILL_MAX_BPP",
    "analyze",
    "is_static",
    "pick_samples",
    "probe_preset",
    "scan",
    "scan_windows",
    "sha256_of",
    "still_is_cheap",
]

ANALYSIS_VERSION = 6  # 4: probes per codec family; 5: reach probes; 6: HDR tone-mapped


def analyze(
    source: Path,
    probe: ProbeResult,
    config: AutoLadderConfig,
    *,
    preset: str = "veryfast",
    cache_dir: Path | None = None,
    checksum: str | None = None,
    codecs: tuple[CodecFamily, ...] = (CodecFamily.H264,),
) -> ComplexityAnalysis:
    """Measure bitrate against quality on samples of the title at a few resolutions, for
    each codec family in `codecs` (one decode of the samples, one scan, one reference for
    all of them); cached in `cache_dir/<sha256>-<settings>.json` when a cache folder is
    given."""
    started = time.monotonic()
    video = probe.primary_video
    if video is None:
        raise MediaError("source.no_video", "the auto ladder needs a video stream")
    fps = output_frame_rate(video)
    p_preset = probe_preset(preset)
    codecs = parse_codecs(codecs)
    key = settings_key(config, p_preset, codecs)
    cache_file = None
    if cache_dir is not None:
        checksum = checksum or sha256_of(source)
        cache_file = Path(cache_dir) / f"{checksum}-{key}.json"
        cached = read_cached(cache_file)
        if cached is not None:
            return cached

    duration = float(probe.duration or 0.0)
    timing: dict[str, float] = {}
    title = scan_title(source, probe, config, fps, duration, timing)
    metric = default_metric()
    points, static, reach = run_probes(
        source,
        probe,
        config,
        fps=fps,
        preset=p_preset,
        samples=title.samples,
        static=title.static,
        metric=metric,
        timing=timing,
        codecs=codecs,
    )
    analysis = ComplexityAnalysis(
        version=ANALYSIS_VERSION,
        checksum=checksum,
        metric=metric,
        duration=duration,
        source_size=video.display_size,
        frame_rate=str(fps),
        samples=[(round(s, 3), round(d, 3)) for s, d in title.samples],
        scene_cuts=[round(c, 3) for c in title.cuts],
        static=static,
        preset=p_preset,
        codecs=list(codecs),
        points=points,
        reach=reach,
        seconds=round(time.monotonic() - started, 3),
        timing={k: round(v, 3) for k, v in timing.items()},
    )
    if cache_file is not None:
        write_cached(cache_file, analysis)
    return analysis


def settings_key(
    config: AutoLadderConfig, preset: str, codecs: tuple[CodecFamily, ...] = (CodecFamily.H264,)
) -> str:
    """What besides the source decides an analysis: part of its cache file's name, so that
    other settings or a new analysis version never read an old result."""
    return hashlib.sha256(
        json.dumps(
            [
                ANALYSIS_VERSION,
                config.probe_crfs,
                config.heights,
                config.probe_heights,
                config.samples,
                config.sample_seconds,
                preset,
                default_metric(),
                {str(c): config.for_family(c).probe_crfs for c in codecs},
            ]
        ).encode()
    ).hexdigest()[:12]


def read_cached(cache_file: Path) -> ComplexityAnalysis | None:
    """The cached analysis, or None; an unreadable entry is removed, to be written anew."""
    if not cache_file.is_file():
        return None
    try:
        cached = ComplexityAnalysis.model_validate_json(cache_file.read_text())
        return cached.model_copy(update={"cached": True})
    except ValueError:
        cache_file.unlink(missing_ok=True)
        return None


def write_cached(cache_file: Path, analysis: ComplexityAnalysis) -> None:
    # through a temporary file: a reader never sees half an entry
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp_file = cache_file.with_suffix(".tmp")
    tmp_file.write_text(analysis.model_dump_json(indent=1))
    tmp_file.replace(cache_file)

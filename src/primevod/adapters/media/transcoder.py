"""The media engine behind the Prober and Encoder ports: probe, check, plan, encode in one
FFmpeg run, package, validate, and move the finished package into place atomically."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from primevod.adapters.media.chunked_encode import encode_chunk, plan_title_chunks
from primevod.adapters.media.chunked_stitch import AUDIO_FILE, encode_title_audio, package_chunks
from primevod.adapters.media.complexity import analyze
from primevod.adapters.media.cost_sample import measure_sample
from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import (
    MANIFEST,
    MASTER,
    POSTER,
    THUMB_DIR,
    EncodeOptions,
    build_command,
)
from primevod.adapters.media.ffmpeg_runner import run_ffmpeg, with_encode_clock
from primevod.adapters.media.package_validator import validated_package
from primevod.adapters.media.packager import STORYBOARD, Tracks, finalize
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.subtitle_tracks import check_sidecars, collect
from primevod.core.chunks import Chunk, ChunkEncode
from primevod.core.codec_families import parse_codecs
from primevod.core.errors import MediaError
from primevod.core.ladder import LadderPolicy, RateControl, plan_ladder
from primevod.core.local_cost import Sample
from primevod.core.outputs import (
    AutoPlan,
    EncodePlan,
    PackageResult,
    RenditionOutput,
    ValidationReport,
    VariantOutput,
)
from primevod.core.probe import ProbeResult
from primevod.core.progress import Progress, ProgressCallback, encode_activity, scaled
from primevod.core.quality import auto_policy
from primevod.core.source_rules import SourceLimits, check_source
from primevod.core.subtitles import SidecarSubtitle
from primevod.core.thumbnails import plan_thumbnails


class MediaEngine:
    """FFmpeg (imageio-ffmpeg wheel) + PyAV implementation of Prober and Encoder."""

    def __init__(
        self,
        options: EncodeOptions | None = None,
        limits: SourceLimits | None = None,
        *,
        analysis_cache: Path | None = None,
    ) -> None:
        self.options = options or EncodeOptions()
        self.limits = limits or SourceLimits()
        self.analysis_cache = analysis_cache

    def probe(self, source: Path) -> ProbeResult:
        return probe_file(source)

    def inspect(self, source: Path) -> ProbeResult:
        """Probe and apply the source rules: the ingest check."""
        result = probe_file(source)
        check_source(result, self.limits)
        return result

    def transcode(
        self,
        source: Path,
        output_dir: Path,
        policy: LadderPolicy,
        *,
        segment_seconds: float | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        overwrite: bool = False,
        probe: ProbeResult | None = None,
        checksum: str | None = None,
        analysis_cache: Path | None = None,
        subtitles: Sequence[SidecarSubtitle] = (),
    ) -> PackageResult:
        """Probe (unless `probe` comes from an earlier inspect of the same file), plan (for the
        `auto` policy: analyse the title first, cached by its `checksum` in `analysis_cache`),
        encode, package (with the source's text subtitles and the `subtitles` sidecar files),
        validate, and move the package into `output_dir`."""
        source, output_dir = Path(source), Path(output_dir)
        started = time.monotonic()
        _check_output_dir(source, output_dir, overwrite)
        check_sidecars(subtitles)  # a bad sidecar fails before any encode
        if probe is None:
            probe = self.inspect(source)
        else:
            check_source(probe, self.limits)
        plan = self.plan(
            source,
            probe,
            policy,
            segment_seconds=segment_seconds,
            checksum=checksum,
            analysis_cache=analysis_cache or self.analysis_cache,
        )
        packaged = self._package(source, probe, plan, output_dir, subtitles, on_progress, cancel)
        result = _transcode_result(output_dir, plan, packaged, packaged.finished - started)
        if on_progress is not None:
            on_progress(
                Progress(
                    fraction=1.0, out_time=plan.duration, speed=result.realtime_factor, done=True
                )
            )
        return result

    def _package(
        self,
        source: Path,
        probe: ProbeResult,
        plan: EncodePlan,
        output_dir: Path,
        subtitles: Sequence[SidecarSubtitle],
        on_progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> _Packaged:
        """Encode, package and validate in a work folder beside `output_dir`, then move it into
        place; on any failure the work folder is removed and `output_dir` is left as it was."""
        workdir = _make_workdir(output_dir)
        try:
            run = self._encode(source, probe, plan, workdir, on_progress, cancel)
            _check_fully_decoded(plan.duration, run.decoded)
            texts = collect(source, probe, subtitles, _scratch(workdir), cancel)
            renditions, variants, tracks = finalize(workdir, plan.ladder, probe, plan.thumbs, texts)
            report = validated_package(workdir)
            _move_into_place(workdir, output_dir)
            finished = time.monotonic()
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        finally:
            _remove_pass_logs(workdir)
            shutil.rmtree(_scratch(workdir), ignore_errors=True)
        return _Packaged(run, renditions, variants, tracks, texts.skipped, report, finished)

    def plan(
        self,
        source: Path,
        probe: ProbeResult,
        policy: LadderPolicy,
        *,
        segment_seconds: float | None = None,
        checksum: str | None = None,
        analysis_cache: Path | None = None,
    ) -> EncodePlan:
        """The ladder (per title for an `auto` policy: analysed first, cached by `checksum`
        in `analysis_cache`) and the thumbnails."""
        auto_plan = None
        analysis_seconds = 0.0
        if policy.auto is not None and probe.primary_video is not None:
            analysis_started = time.monotonic()
            analysis = analyze(
                source,
                probe,
                policy.auto,
                preset=self.options.effective_preset,
                cache_dir=analysis_cache,
                checksum=checksum,
                codecs=parse_codecs(policy.codecs),
            )
            analysis_seconds = time.monotonic() - analysis_started
            policy, choices = auto_policy(policy, analysis)
            auto_plan = AutoPlan(analysis=analysis, rungs=choices)
        ladder = plan_ladder(probe, policy, segment_seconds=segment_seconds)
        duration = probe.duration or 0.0
        thumbs = None
        if self.options.thumbnails and ladder.rungs and ladder.source_display:
            thumbs = plan_thumbnails(ladder.source_display, duration)
        return EncodePlan(
            ladder=ladder,
            thumbs=thumbs,
            duration=duration,
            auto=auto_plan,
            analysis_seconds=analysis_seconds,
        )

    def _encode(
        self,
        source: Path,
        probe: ProbeResult,
        plan: EncodePlan,
        workdir: Path,
        on_progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> _EncodeRun:
        """One FFmpeg run, or two when quality mode has VBR rungs to encode (the first
        pass is the first half of the progress)."""
        started = time.monotonic()
        last: list[Progress] = []
        ladder = plan.ladder
        activity = encode_activity([r.height for r in ladder.rungs], len(ladder.audio))
        two_pass = self.options.mode == "quality" and any(
            r.rate_control is RateControl.VBR for r in ladder.rungs
        )
        share = 0.5 if two_pass else 1.0

        def first_pass(p: Progress) -> None:
            if on_progress is not None and not p.done:
                on_progress(scaled(p, 0.0, share, f"first pass: {activity}"))

        def progress(p: Progress) -> None:
            last[:] = [p]
            # the caller hears `done` once, after packaging and validation
            if on_progress is not None and not p.done:
                on_progress(scaled(p, 1.0 - share, share, activity))

        cpu = 0.0
        if two_pass:  # the first pass: rate statistics only, counted in the encode time
            cpu += self._run_pass(source, probe, plan, workdir, first_pass, cancel, pass_number=1)
        last_pass = 2 if two_pass else None  # or the whole encode in one run
        cpu += self._run_pass(source, probe, plan, workdir, progress, cancel, pass_number=last_pass)
        done = last[0].out_time if last else 0.0
        return _EncodeRun(time.monotonic() - started, cpu, done)

    def _run_pass(
        self,
        source: Path,
        probe: ProbeResult,
        plan: EncodePlan,
        workdir: Path,
        on_progress: ProgressCallback,
        cancel: threading.Event | None,
        *,
        pass_number: int | None,
    ) -> float:
        """One FFmpeg run of the encode, its CPU seconds: the whole encode (`pass_number`
        None), or one pass of a two-pass one (the first writes no thumbnails)."""
        ladder = plan.ladder
        thumbs = None if pass_number == 1 else plan.thumbs
        cmd = build_command(
            ffmpeg_exe(),
            source,
            probe,
            ladder,
            workdir,
            self.options,
            thumbs,
            pass_number=pass_number,
        )
        fps = float(Fraction(ladder.frame_rate)) if ladder.frame_rate else None
        return run_ffmpeg(
            with_encode_clock(cmd),
            duration=plan.duration,
            frame_rate=fps,
            on_progress=on_progress,
            cancel=cancel,
        )

    # -- split-and-stitch: the chunk encodes, the title's audio and the packaging as calls
    # of their own, so that each may run on another worker (chunked_encode, chunked_stitch)
    def plan_chunks(
        self, source: Path, probe: ProbeResult, plan: EncodePlan, chunk_seconds: float
    ) -> list[Chunk]:
        return plan_title_chunks(Path(source), probe, plan.ladder, chunk_seconds)

    def encode_chunk(
        self,
        source: Path,
        probe: ProbeResult,
        plan: EncodePlan,
        chunk: Chunk,
        out_dir: Path,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> ChunkEncode:
        return encode_chunk(
            Path(source),
            probe,
            plan.ladder,
            chunk,
            Path(out_dir),
            self.options,
            thumbs=plan.thumbs,
            on_progress=on_progress,
            cancel=cancel,
        )

    def sample_cost(
        self,
        source: Path,
        probe: ProbeResult,
        plan: EncodePlan,
        spans: list[tuple[float, float]],
        work: Path,
    ) -> Sample | None:
        return measure_sample(Path(source), probe, plan, spans, Path(work), self.options)

    def encode_title_audio(
        self,
        source: Path,
        probe: ProbeResult,
        plan: EncodePlan,
        out_dir: Path,
        *,
        cancel: threading.Event | None = None,
    ) -> Path | None:
        return encode_title_audio(
            Path(source),
            probe,
            plan.ladder,
            Path(out_dir) / AUDIO_FILE,
            self.options,
            cancel=cancel,
        )

    def package_chunks(
        self,
        chunks_per_rung: list[list[Path]],
        audio: Path | None,
        thumb_dirs: list[Path],
        probe: ProbeResult,
        plan: EncodePlan,
        out_dir: Path,
        *,
        cancel: threading.Event | None = None,
        source: Path | None = None,
        subtitles: Sequence[SidecarSubtitle] = (),
    ) -> PackageResult:
        result = package_chunks(
            chunks_per_rung,
            audio,
            thumb_dirs,
            probe,
            plan.ladder,
            Path(out_dir),
            plan.thumbs,
            options=self.options,
            cancel=cancel,
            source=source,
            subtitles=subtitles,
        )
        return result.model_copy(
            update={"auto": plan.auto, "analysis_seconds": round(plan.analysis_seconds, 3)}
        )


@dataclass(frozen=True)
class _EncodeRun:
    """The encode's wall and CPU seconds, and how far into the title the (last) run got."""

    seconds: float
    cpu_seconds: float
    decoded: float


@dataclass(frozen=True)
class _Packaged:
    """What the work folder gave before it was moved into place, and when it was."""

    run: _EncodeRun
    renditions: list[RenditionOutput]
    variants: list[VariantOutput]
    tracks: Tracks
    skipped_subtitles: list[str]
    report: ValidationReport
    finished: float


def _make_workdir(output_dir: Path) -> Path:
    """A hidden folder beside `output_dir`: on the same filesystem, so the final move is a
    rename."""
    try:
        output_dir.parent.mkdir(parents=True, exist_ok=True)
        workdir = output_dir.parent / f".{output_dir.name}.partial-{uuid.uuid4().hex[:8]}"
        workdir.mkdir()
        (workdir / THUMB_DIR).mkdir()
    except OSError as exc:
        raise MediaError(
            "request.invalid", f"cannot write to {output_dir.parent}: {exc.strerror}"
        ) from None
    return workdir


def _check_fully_decoded(duration: float, encoded: float) -> None:
    if duration > 2.0 and encoded < duration * 0.9 - 1.0:
        raise MediaError(
            "source.truncated",
            f"the source claims {duration:.1f}s but only {encoded:.1f}s could be decoded",
        )


def _scratch(workdir: Path) -> Path:
    """Beside the work folder (not in the package): the WebVTT files FFmpeg converts."""
    return workdir.parent / f"{workdir.name}.subtitles"


def _remove_pass_logs(workdir: Path) -> None:
    for log in workdir.parent.glob(f"{workdir.name}.pass-*"):
        log.unlink(missing_ok=True)


def _package_result(
    output_dir: Path,
    plan: EncodePlan,
    renditions: list[RenditionOutput],
    variants: list[VariantOutput],
    report: ValidationReport,
    *,
    encode_seconds: float,
    encode_cpu_seconds: float,
    total_seconds: float,
) -> PackageResult:
    thumb_dir = output_dir / THUMB_DIR
    has_thumbs = plan.thumbs is not None and thumb_dir.is_dir()
    duration = plan.duration
    return PackageResult(
        output_dir=str(output_dir),
        master=MASTER,
        manifest=MANIFEST,
        duration=duration,
        ladder=plan.ladder,
        renditions=renditions,
        variants=variants,
        poster=f"{THUMB_DIR}/{POSTER}" if has_thumbs else None,
        thumbnails=sorted(f"{THUMB_DIR}/{p.name}" for p in thumb_dir.glob("thumb_*.jpg"))
        if has_thumbs
        else [],
        sprites=sorted(f"{THUMB_DIR}/{p.name}" for p in thumb_dir.glob("sprite_*.jpg"))
        if has_thumbs
        else [],
        storyboard=f"{THUMB_DIR}/{STORYBOARD}" if has_thumbs else None,
        total_bytes=sum(p.stat().st_size for p in output_dir.rglob("*") if p.is_file()),
        encode_seconds=round(encode_seconds, 3),
        encode_cpu_seconds=round(encode_cpu_seconds, 3),
        analysis_seconds=round(plan.analysis_seconds, 3),
        auto=plan.auto,
        total_seconds=round(total_seconds, 3),
        realtime_factor=round(duration / total_seconds, 3) if total_seconds else 0.0,
        validation=report,
    )


def _transcode_result(
    output_dir: Path, plan: EncodePlan, packaged: _Packaged, total_seconds: float
) -> PackageResult:
    return _package_result(
        output_dir,
        plan,
        packaged.renditions,
        packaged.variants,
        packaged.report,
        encode_seconds=packaged.run.seconds,
        encode_cpu_seconds=packaged.run.cpu_seconds,
        total_seconds=total_seconds,
    ).model_copy(
        update={
            "subtitles": packaged.tracks.subtitles,
            "iframe_playlists": packaged.tracks.iframe_playlists,
            "skipped_subtitles": packaged.skipped_subtitles,
        }
    )


def _check_output_dir(source: Path, output_dir: Path, overwrite: bool) -> None:
    """Refuse anything that could damage what is already stored: a file in the way, a
    non-empty folder (unless replacing an earlier package), a folder holding the source."""
    if output_dir.exists() and not output_dir.is_dir():
        raise MediaError("request.invalid", f"{output_dir} exists and is not a directory")
    if not output_dir.is_dir() or not any(output_dir.iterdir()):
        return
    if not overwrite:
        raise MediaError("request.invalid", f"output directory {output_dir} is not empty")
    if source.resolve().is_relative_to(output_dir.resolve()):
        raise MediaError("request.invalid", f"the source is inside {output_dir}; not replacing")
    if not (output_dir / MASTER).is_file() and not (output_dir / MANIFEST).is_file():
        raise MediaError(
            "request.invalid",
            f"{output_dir} holds no earlier package; --overwrite only "
            "replaces a folder prime-vod wrote",
        )


def _move_into_place(workdir: Path, output_dir: Path) -> None:
    """Swap the finished package in; a replaced package is removed only after the swap."""
    trash = None
    if output_dir.exists():
        trash = output_dir.parent / f".{output_dir.name}.old-{uuid.uuid4().hex[:8]}"
        output_dir.rename(trash)
    workdir.rename(output_dir)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)

"""`primevod` command line: probe and transcode (the pipeline's commands come later)."""

from __future__ import annotations

from primevod.cli.startup import loading

with loading():
    import json
    import os
    import sys
    from pathlib import Path
    from typing import Annotated

    import typer
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.table import Table

    from primevod import __version__
    from primevod.cli.output import err, fail_media, out
    from primevod.core.errors import MediaError
    from primevod.core.outputs import PackageResult
    from primevod.core.probe import ProbeResult

app = typer.Typer(
    name="primevod",
    help="prime-vod: video-on-demand pipeline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """prime-vod: upload, encode an ABR ladder as CMAF HLS + DASH, deliver."""


@app.command()
def version() -> None:
    """Print the version of prime-vod and of the bundled FFmpeg."""
    from primevod.adapters.media.ffmpeg_binary import ffmpeg_version

    print(f"prime-vod {__version__} (FFmpeg {ffmpeg_version()})")


@app.command()
def sample(
    file: Annotated[Path, typer.Argument(help="MP4 file to write")],
    seconds: Annotated[float, typer.Option(help="length in seconds")] = 10.0,
    size: Annotated[str, typer.Option(help="WIDTHxHEIGHT")] = "1280x720",
    fps: Annotated[int, typer.Option(help="frames per second")] = 30,
    pattern: Annotated[str, typer.Option(help="testsrc2, mandelbrot or slides")] = "testsrc2",
) -> None:
    """Write a synthetic test clip (moving picture + tone) made by the bundled FFmpeg."""
    from primevod.adapters.media.samples import make_sample

    try:
        width, _, height = size.lower().partition("x")
        if not (width.isdigit() and height.isdigit()):
            raise MediaError("request.invalid", f"size {size!r} is not WIDTHxHEIGHT")
        make_sample(
            file, seconds=seconds, width=int(width), height=int(height), fps=fps, pattern=pattern
        )
    except MediaError as exc:
        fail_media(exc, False)
    out.print(f"wrote {file}")


@app.command()
def probe(
    file: Annotated[Path, typer.Argument(help="media file to inspect")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Describe a media file: container, streams, rotation, scan type, frame rate, bit depth."""
    from primevod.adapters.media.pyav_probe import probe_file

    try:
        result = probe_file(file)
    except MediaError as exc:
        fail_media(exc, as_json)
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    _print_probe(result)


def _print_probe(result: ProbeResult) -> None:
    table = Table(title=str(result.path), show_header=False, title_justify="left")
    table.add_row("format", result.format_long_name or result.format_name)
    table.add_row("size", f"{result.size:,} bytes")
    table.add_row("duration", f"{result.duration:.3f} s" if result.duration else "unknown")
    table.add_row("bitrate", f"{(result.bit_rate or 0) / 1000:.0f} kb/s")
    for v in result.video:
        fps = f"{v.frame_rate:.3f} fps{' (variable)' if v.variable_frame_rate else ''}"
        table.add_row(
            f"video #{v.index}",
            f"{v.codec} {v.profile or ''} {v.width}x{v.height} (display "
            f"{v.display_size[0]}x{v.display_size[1]}, DAR {v.display_aspect_ratio or '?'}, "
            f"rotation {v.rotation}) {fps} {v.pixel_format} {v.bit_depth}-bit {v.scan_type} "
            f"{(v.bit_rate or 0) / 1000:.0f} kb/s {v.frame_count or '?'} frames",
        )
    for a in result.audio:
        table.add_row(
            f"audio #{a.index}",
            f"{a.codec} {a.profile or ''} {a.channels} ch ({a.channel_layout or '?'}) "
            f"{a.sample_rate} Hz {(a.bit_rate or 0) / 1000:.0f} kb/s {a.language or ''}",
        )
    for s in result.subtitles:
        table.add_row(f"text #{s.index}", f"{s.codec} {s.language or ''} {s.title or ''}")
    out.print(table)


@app.command()
def transcode(
    file: Annotated[Path, typer.Argument(help="source media file")],
    outdir: Annotated[Path, typer.Argument(help="folder for the CMAF HLS + DASH package")],
    ladder: Annotated[str, typer.Option("--ladder", help="ladder policy")] = "default",
    segment_seconds: Annotated[
        float | None, typer.Option("--segment-seconds", help="segment duration (default 4)")
    ] = None,
    preset: Annotated[str, typer.Option("--preset", help="x264 preset")] = "veryfast",
    codecs: Annotated[
        str | None,
        typer.Option(
            "--codecs",
            help="codec families: h264 (always), hevc, av1; e.g. h264,av1 "
            "[default: PRIMEVOD_CODECS or h264,av1]",
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace OUTDIR")] = False,
    encryption: Annotated[
        str | None,
        typer.Option(
            "--encryption",
            help="none or aes-128: encrypted HLS (no DASH); the key goes to OUTDIR.key beside "
            "OUTDIR, never inside it",
        ),
    ] = None,
    key_uri: Annotated[
        str | None,
        typer.Option(
            "--key-uri", help="EXT-X-KEY URI players fetch the key from (default ../OUTDIR.key)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Encode FILE into an ABR ladder in one FFmpeg run and package it as CMAF HLS + DASH."""
    from primevod.adapters.media.ffmpeg_command import EncodeOptions
    from primevod.adapters.media.transcoder import MediaEngine
    from primevod.core.codec_families import configured_codecs
    from primevod.core.content_keys import check_encryption
    from primevod.core.ladder import with_codecs
    from primevod.core.policies import get_policy

    try:
        encrypt = check_encryption(encryption)
    except ValueError as exc:
        fail_media(MediaError("request.invalid", str(exc)), as_json)
    try:
        families = configured_codecs(codecs, os.environ.get("PRIMEVOD_CODECS"))
        policy = with_codecs(get_policy(ladder), families)
        if preset not in _PRESETS:
            raise MediaError("request.invalid", f"unknown preset {preset!r}")
        engine = MediaEngine(EncodeOptions(preset=preset))
        show_bar = not as_json and sys.stderr.isatty()
        if show_bar:
            with Progress(
                TextColumn("[bold]encoding"),
                BarColumn(),
                TextColumn("{task.percentage:>5.1f}%"),
                TextColumn("{task.fields[speed]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            ) as bar:
                task = bar.add_task("encode", total=1.0, speed="")
                result = engine.transcode(
                    file,
                    outdir,
                    policy,
                    segment_seconds=segment_seconds,
                    overwrite=overwrite,
                    on_progress=lambda p: bar.update(
                        task, completed=p.fraction, speed=f"{p.speed:.2f}x" if p.speed else ""
                    ),
                )
        else:
            result = engine.transcode(
                file, outdir, policy, segment_seconds=segment_seconds, overwrite=overwrite
            )
        if encrypt:
            result = _encrypt_local(result, Path(outdir), key_uri)
    except MediaError as exc:
        fail_media(exc, as_json)
    if as_json:
        print(json.dumps(_transcode_json(result), indent=2))
        return
    _print_result(result)


def key_file(outdir: Path) -> Path:
    """Where `transcode --encryption` keeps the key: beside OUTDIR, so publishing the
    package folder never publishes its key."""
    return outdir.parent / f"{outdir.name}.key"


def _encrypt_local(result: PackageResult, outdir: Path, uri: str | None) -> PackageResult:
    """The transcoded package encrypted in place with the key of `key_file(outdir)` (made
    now with mode 0600, or the one an earlier run made: a re-encode keeps its key)."""
    import os

    from primevod.adapters.media.hls_encryption import encrypt_package
    from primevod.core.content_keys import KEY_BYTES, new_content_key

    path = key_file(outdir)
    key = path.read_bytes() if path.is_file() else b""
    if len(key) != KEY_BYTES:
        key = new_content_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        path.chmod(0o600)
    return encrypt_package(result, key, uri or f"../{path.name}")


_PRESETS = {
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
}


def _transcode_json(result: PackageResult) -> dict[str, object]:
    root = Path(result.output_dir)
    return {
        "ok": True,
        "master": str(root / result.master),
        "manifest": str(root / result.manifest) if result.manifest else None,
        "encryption": result.encryption,
        "key_file": str(key_file(root)) if result.encryption else None,
        "duration": result.duration,
        "policy": result.ladder.policy,
        "segment_seconds": result.ladder.segment_seconds,
        "rungs": [r.model_dump() for r in result.renditions],
        "variants": [v.model_dump() for v in result.variants],
        "poster": str(root / result.poster) if result.poster else None,
        "storyboard": str(root / result.storyboard) if result.storyboard else None,
        "thumbnails": len(result.thumbnails),
        "total_bytes": result.total_bytes,
        "encode_seconds": result.encode_seconds,
        "total_seconds": result.total_seconds,
        "realtime_factor": result.realtime_factor,
        "validation": {
            "passed": result.validation.passed,
            **result.validation.summary(),
            "results": [r.model_dump() for r in result.validation.results],
        },
    }


def _print_result(result: PackageResult) -> None:
    table = Table(
        title=f"{result.ladder.policy} ladder, {result.duration:.1f} s", title_justify="left"
    )
    for col in ("rendition", "size", "codecs", "target kb/s", "avg kb/s", "peak kb/s", "bytes"):
        table.add_column(col, justify="right" if "kb" in col or col == "bytes" else "left")
    for r in result.renditions:
        size = f"{r.width}x{r.height}" if r.kind == "video" else f"{r.channels} ch"
        table.add_row(
            r.name,
            size,
            r.codecs,
            f"{(r.target_bitrate or 0) / 1000:.0f}",
            f"{r.average_bitrate / 1000:.0f}",
            f"{r.peak_bitrate / 1000:.0f}",
            f"{r.bytes:,}",
        )
    out.print(table)
    root = Path(result.output_dir)
    summary = result.validation.summary()
    state = "[green]passed[/green]" if result.validation.passed else "[red]FAILED[/red]"
    out.print(f"HLS   {root / result.master}")
    if result.manifest:
        out.print(f"DASH  {root / result.manifest}")
    if result.encryption:  # HLS only: whole-segment AES has no DASH form
        out.print(f"key   {key_file(root)} ({result.encryption}; keep it out of the package)")
    if result.poster:
        out.print(
            f"poster {root / result.poster}, {len(result.thumbnails)} thumbnails, "
            f"storyboard {root / result.storyboard}"
        )
    out.print(
        f"validation {state}: {summary['checked']} checks, {summary['failed']} failed, "
        f"{summary['warnings']} warnings"
    )
    out.print(
        f"encoded in {result.encode_seconds:.1f} s ({result.realtime_factor:.2f}x realtime), "
        f"{result.total_bytes:,} bytes"
    )


with loading():
    from primevod.cli import (
        analytics_cli,
        audit_cli,
        aws_cli,
        canary_cli,
        cost_cli,
        kms_cli,
        lifecycle_cli,
        observability_cli,
        pipeline_cli,
        quality_cli,
        search_cli,
        server_cli,
        share_cli,
        signing_cli,
        workers_cli,
    )

pipeline_cli.register(app)
server_cli.register(app)
signing_cli.register(app)
canary_cli.register(app)
observability_cli.register(app)
quality_cli.register(app)
workers_cli.register(app)
search_cli.register(app)
share_cli.register(app)
app.add_typer(aws_cli.aws_app)
app.add_typer(cost_cli.cost_app)
app.add_typer(lifecycle_cli.lifecycle_app)
app.add_typer(analytics_cli.analytics_app)
app.add_typer(audit_cli.audit_app)
app.add_typer(kms_cli.kms_app)


def run() -> None:
    """The `primevod` command: the typer app, with a bad configuration reported in one line
    per problem (exit 2) instead of a traceback."""
    from pydantic import ValidationError

    try:
        app()
    except ValidationError as exc:
        if exc.title != "Settings":
            raise
        for problem in exc.errors():
            where = ".".join(str(p) for p in problem["loc"]) or "settings"
            err.print(
                f"[red]error[/red] config.invalid: {where}: {problem['msg']}", highlight=False
            )
        raise SystemExit(2) from None


if __name__ == "__main__":
    run()

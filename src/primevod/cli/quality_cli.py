"""Quality commands: `primevod quality ASSET_ID` (the per-rung VMAF table the quality step
recorded) and `primevod ladder compare FILE` (one title encoded with several policies)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from primevod.cli.output import fail, fail_media, out

ladder_app = typer.Typer(help="Ladder policies: compare them on a title.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def register(app: typer.Typer) -> None:
    app.command("quality")(quality)
    app.add_typer(ladder_app, name="ladder")


def quality(asset_id: str, as_json: JsonOpt = False) -> None:
    """Print the per-rung quality (VMAF against the source) the quality step recorded."""
    from primevod.adapters.catalog.sql_catalog import NotFound, SqlCatalog
    from primevod.settings import Settings

    settings = Settings()
    catalog = SqlCatalog(settings.database_url or "", migrate=False)
    try:
        asset = catalog.get_asset(asset_id)
    except NotFound:
        fail("asset.not_found", f"no asset {asset_id}", as_json=as_json)
    finally:
        catalog.engine.dispose()
    report = asset.quality
    if not report:
        fail(
            "quality.unmeasured",
            f"asset {asset_id} has no quality record (status {asset.status.value})",
            as_json=as_json,
        )
    if as_json:
        print(json.dumps({"ok": True, "asset_id": asset_id, **report}, indent=2))
        return
    metric = "VMAF" if report["metric"] == "vmaf" else "PSNR dB"
    table = Table(
        title=f"{asset.title or asset_id}: {metric} against the source "
        f"({report['sampled_segments']} sampled segments per rung)",
        title_justify="left",
    )
    for col in ("rung", "size", "avg kb/s", "peak kb/s", metric, "lowest segment"):
        table.add_column(col, justify="left" if col in ("rung", "size") else "right")
    for r in report["rungs"]:
        score = r["vmaf"] if report["metric"] == "vmaf" else r["psnr"]
        table.add_row(
            r["name"],
            f"{r['width']}x{r['height']}",
            f"{r['average_kbps']:.0f}",
            f"{r['peak_kbps']:.0f}",
            f"{score:.2f}" if score is not None else "-",
            f"{r['vmaf_min']:.2f}" if r.get("vmaf_min") is not None else "-",
        )
    out.print(table)
    state = "[green]passed[/green]" if report["passed"] else "[red]below target[/red]"
    out.print(f"{state}: {report['message']} (check mode {report['mode']})")


@ladder_app.command("compare")
def compare(
    file: Annotated[Path, typer.Argument(help="source media file")],
    policies: Annotated[
        str, typer.Option("--policies", help="comma-separated ladder policies")
    ] = "auto,apple,aws-vod",
    preset: Annotated[str, typer.Option("--preset", help="x264 preset")] = "veryfast",
    segments: Annotated[
        int, typer.Option("--segments", help="segments scored per rung; 0: all")
    ] = 0,
    subsample: Annotated[int, typer.Option("--subsample", help="VMAF on every n-th frame")] = 2,
    mode: Annotated[
        str, typer.Option("--mode", help="fast, or quality (preset >= slow, two-pass VBR)")
    ] = "fast",
    codecs: Annotated[
        str | None,
        typer.Option(
            "--codecs",
            help="codec families of the compared ladders (h264 always, hevc, av1); "
            "the apple anchor stays H.264 [default: PRIMEVOD_CODECS or h264,av1]",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Encode FILE with each policy; print rungs, bytes, per-rung VMAF, and bytes saved and
    BD-rate against `apple` (bytes saved only at equal or better top-rung VMAF), for each
    codec family of a ladder and for the one a modern device receives (the best family)."""
    from primevod.adapters.media.ladder_compare import against_anchor_by_family

    names = _policy_names(policies, mode, as_json)
    families = _compare_codecs(codecs, as_json)
    entries, anchor = _encode_policies(
        file,
        names,
        preset=preset,
        mode=mode,
        segments=segments,
        subsample=subsample,
        codecs=families,
        as_json=as_json,
    )
    for entry in entries.values():
        entry.update(against_anchor_by_family(entry, anchor))
        entry.pop("auto", None)
    if as_json:
        print(json.dumps({"ok": True, "file": str(file), "policies": entries}, indent=2))
        return
    _print_comparison(file, entries)


def _policy_names(policies: str, mode: str, as_json: bool) -> list[str]:
    """The argument checks that need no media work: fail before anything is encoded."""
    names = [p.strip() for p in policies.split(",") if p.strip()]
    if mode not in ("fast", "quality"):
        fail("request.invalid", f"mode {mode!r} is not fast or quality", as_json=as_json)
    return names


def _compare_codecs(codecs: str | None, as_json: bool) -> str:
    """The families asked for (the option, else PRIMEVOD_CODECS), checked before encoding."""
    from primevod.core.codec_families import configured_codecs
    from primevod.core.errors import MediaError

    try:
        return configured_codecs(codecs, os.environ.get("PRIMEVOD_CODECS"))
    except MediaError as exc:
        fail_media(exc, as_json)


def _encode_policies(
    file: Path,
    names: list[str],
    *,
    preset: str,
    mode: str,
    segments: int,
    subsample: int,
    codecs: str,
    as_json: bool,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any] | None]:
    """Each named policy encoded and scored, and the `apple` anchor the others are measured
    against (encoded as well when it was not asked for). A media error ends the command."""
    from primevod.adapters.media.ffmpeg_command import EncodeOptions
    from primevod.adapters.media.ladder_compare import encode_and_score
    from primevod.adapters.media.pyav_probe import probe_file
    from primevod.core.errors import MediaError
    from primevod.core.ladder import with_codecs
    from primevod.core.policies import get_policy

    options = EncodeOptions(preset=preset, thumbnails=False, mode=mode)  # type: ignore[arg-type]
    try:
        # the anchor is the H.264 ladder as deployed; the others carry the families asked
        chosen = [
            get_policy(n) if n == "apple" else with_codecs(get_policy(n), codecs) for n in names
        ]
        probe = probe_file(file)
        if probe.primary_video is None:
            raise MediaError("source.no_video", "ladder compare needs a video stream")
        entries: dict[str, dict[str, Any]] = {}
        with tempfile.TemporaryDirectory(prefix="primevod-compare-") as tmp:
            for policy in chosen:
                if not as_json:
                    out.print(f"encoding with [bold]{policy.name}[/bold] ...")
                entries[policy.name] = encode_and_score(
                    file,
                    probe,
                    policy,
                    Path(tmp) / policy.name,
                    options=options,
                    segments=segments or None,
                    subsample=subsample,
                )
            anchor = entries.get("apple")
            if anchor is None and "apple" not in names:
                if not as_json:
                    out.print("encoding with [bold]apple[/bold] (the reference) ...")
                anchor = encode_and_score(
                    file,
                    probe,
                    get_policy("apple"),
                    Path(tmp) / "apple",
                    options=options,
                    segments=segments or None,
                    subsample=subsample,
                )
    except MediaError as exc:
        fail_media(exc, as_json)
    return entries, anchor


def _print_comparison(file: Path, entries: dict[str, dict[str, Any]]) -> None:
    table = Table(title=f"{file.name}: ladders compared (VMAF vs source)", title_justify="left")
    for col in ("policy", "rungs", "per-rung VMAF (size @ kb/s)", "bytes", "saved vs apple"):
        table.add_column(col)
    table.add_column("BD-rate", justify="right")
    for policy, entry in entries.items():
        for name, e in _family_rows(policy, entry):
            _add_comparison_row(table, name, e)
    out.print(table)
    for policy, entry in entries.items():
        for family, why in (entry.get("left_out") or {}).items():
            out.print(f"{policy}: {family} left out: {why}")


def _family_rows(policy: str, entry: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """One row per codec family of a ladder (`auto [av1]`), the entry itself when H.264 alone."""
    from primevod.adapters.media.ladder_compare import family_entry

    families = entry.get("families") or {}
    if len(families) <= 1:
        return [(policy, entry)]
    best = entry.get("best_family")
    return [
        (
            f"{policy} [{family}]" + (" (best)" if family == best else ""),
            {**family_entry(entry, family), **figures},
        )
        for family, figures in families.items()
    ]


def _add_comparison_row(table: Table, name: str, e: dict[str, Any]) -> None:
    per = ", ".join(
        f"{r['size']}@{r['average_kbps']:.0f}: {r['vmaf']:.1f}"
        if r["vmaf"] is not None
        else f"{r['size']}: -"
        for r in e["rungs"]
    )
    saved = e["bytes_saved_percent"]
    bd = e["bd_rate_percent"]
    table.add_row(
        name,
        str(len(e["rungs"])),
        per,
        f"{e['video_bytes']:,}",
        "-"
        if name == "apple"
        else (f"{saved:.1f} %" if saved is not None else "n/a (lower top VMAF)"),
        "-" if name == "apple" else (f"{bd:+.1f} %" if bd is not None else "n/a"),
    )

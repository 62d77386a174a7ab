"""The quality step in the workflow (auto ladder, VMAF recorded on the asset and in the
execution history, warn and fail modes) and the quality commands."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from primevod.cli.main import app
from primevod.core.assets import AssetStatus
from primevod.pipeline import workflows
from primevod.pipeline.runtime import runtime
from primevod.settings import Settings


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    from primevod import wiring

    home = tmp_path_factory.mktemp("home")
    runtime = wiring.start(
        Settings(home=home, preset="ultrafast", encode_concurrency=1, quality_check="warn")
    )
    yield runtime
    wiring.stop()


@pytest.mark.slow
def test_auto_ladder_quality_recorded_then_fail_mode(rt, clip, monkeypatch) -> None:
    from primevod import wiring

    asset = wiring.submit_file(clip("small.mp4"), title="Small", ladder="auto")
    assert workflows.run_here(runtime(), asset.id).get_result()["status"] == "ready"
    asset = rt.catalog.get_asset(asset.id)
    assert asset.status is AssetStatus.READY
    report = asset.quality
    assert report is not None and report["metric"] in ("vmaf", "psnr")
    assert [r["name"] for r in report["rungs"]] == [
        r["name"] for r in asset.renditions if r["kind"] == "video"
    ]
    assert report["top_quality"] is not None and report["mode"] == "warn"
    assert {"quality", "analysis"} <= set(asset.timings)
    steps = [s.name for s in rt.catalog.get_execution(asset.execution_id).steps]
    assert steps.index("process") < steps.index("quality") < steps.index("publish")
    assert asset.ladder["policy"] == "auto"
    # analysis cached per checksum under the data folder
    assert list((rt.settings.home / "cache" / "analysis").glob(f"{asset.checksum}-*.json"))

    monkeypatch.setenv("PRIMEVOD_HOME", str(rt.settings.home))
    shown = CliRunner().invoke(app, ["quality", asset.id, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["rungs"][0]["name"] == report["rungs"][0]["name"]
    table = CliRunner().invoke(app, ["quality", asset.id])
    assert table.exit_code == 0 and report["rungs"][-1]["name"] in table.output

    # an unreachable target fails the asset in fail mode, before anything is published
    rt.settings.quality_check = "fail"
    rt.settings.quality_target_vmaf = 100.5
    try:
        failed = wiring.submit_file(clip("small.mp4"), title="Strict")
        result = workflows.run_here(runtime(), failed.id).get_result()
    finally:
        rt.settings.quality_check = "warn"
        rt.settings.quality_target_vmaf = 93.0
    assert result["status"] == "failed"
    failed = rt.catalog.get_asset(failed.id)
    assert failed.error is not None and failed.error.code == "quality.below_target"
    assert failed.quality is not None and not failed.quality["passed"]
    assert failed.hls_path is None


def test_ladder_compare_json(clip) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "ladder",
            "compare",
            str(clip("small.mp4")),
            "--policies",
            "auto,apple",
            "--json",
            "--preset",
            "ultrafast",
            "--subsample",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data["policies"]) == {"auto", "apple"}
    for entry in data["policies"].values():
        assert entry["rungs"] and entry["video_bytes"] > 0
        assert all(r["vmaf"] is not None for r in entry["rungs"])
        assert {"bd_rate_percent", "bytes_saved_percent", "top_vmaf"} <= set(entry)
    # a 180p source gets a single-rung Apple ladder: no curve, so no BD-rate
    assert data["policies"]["apple"]["bd_rate_percent"] in (None, 0.0)


def test_ladder_compare_reports_each_codec_family_against_apple(clip) -> None:
    args = ["ladder", "compare", str(clip("small.mp4")), "--policies", "auto", "--json"]
    args += ["--preset", "ultrafast", "--subsample", "3", "--codecs", "av1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    auto = json.loads(result.output)["policies"]["auto"]
    assert set(auto["families"]) == {"h264", "av1"} and auto["best_family"] == "av1"
    assert {r["family"] for r in auto["rungs"]} == {"h264", "av1"}
    for figures in auto["families"].values():
        assert {"bd_rate_percent", "bytes_saved_percent", "bytes_ratio"} <= set(figures)
    # the top level keeps the H.264 family's figures: the ladder every device plays
    assert auto["bytes_ratio"] == auto["families"]["h264"]["bytes_ratio"]


def test_ladder_compare_refuses_an_unknown_codec_before_encoding(clip) -> None:
    args = ["ladder", "compare", str(clip("small.mp4")), "--codecs", "vp9", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert "vp9" in result.output and "request.invalid" in result.output

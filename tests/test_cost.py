"""The cost model (core/cost.py, core/prices.py) on MediaConvert jobs built from the ladder
policies, with the shipped price file, and `primevod cost estimate` on a real clip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.media_probes import DESTINATION, INPUT, PROBES, ROLE, source
from typer.testing import CliRunner

from primevod.adapters.price_files import read_prices, shipped
from primevod.cli.cost_cli import cost_app
from primevod.core.cost import estimate_job
from primevod.core.mediaconvert import MediaConvertJob, create_job_request
from primevod.core.policies import get_policy
from primevod.core.prices import PriceFileError, Prices, load_prices
from primevod.core.probe import ProbeResult

PRICES = read_prices()
runner = CliRunner()


def job(probe: ProbeResult, ladder: str = "aws-vod") -> MediaConvertJob:
    return create_job_request(
        probe, get_policy(ladder), role_arn=ROLE, input_url=INPUT, destination=DESTINATION
    )


def shipped_json() -> dict[str, Any]:
    return json.loads(PRICES.model_dump_json(by_alias=True))


def test_the_newest_shipped_price_file_loads_dated_and_sourced() -> None:
    assert shipped()[-1] == "aws-us-east-1-2026-11.json"
    assert PRICES.as_of.isoformat() == "2026-11-30" and PRICES.sources


def test_a_1080p_title_on_the_aws_vod_ladder_costs_what_a_hand_count_gives() -> None:
    made = job(source(1920, 1080, 30.0, duration=60.0))
    estimate = estimate_job(made.request, made.ladder, 60.0, PRICES)
    assert estimate.tier == "basic"  # AVC single-pass HQ, no Professional feature
    videos = [line for line in estimate.lines if line.kind == "video"]
    assert [line.multiplier for line in videos] == [1, 1, 1, 2, 2]  # 270/360/540 SD, 720/1080 HD
    audio = [line for line in estimate.lines if line.kind == "audio"]
    # one minute: 3 SD x $0.0075 + 2 HD x $0.015 + audio renditions x $0.005
    expected = 3 * 0.0075 + 2 * 0.015 + len(audio) * 0.005
    assert estimate.total_usd == pytest.approx(expected)
    assert [line.usd for line in estimate.lines if line.kind == "frame-capture"] == [None]
    assert any("frame-capture" in note for note in estimate.notes)


def test_automated_abr_is_professional_multi_pass_for_every_rendition() -> None:
    made = job(source(1920, 1080, 30.0, duration=60.0), "auto")
    estimate = estimate_job(made.request, made.ladder, 60.0, PRICES)
    assert estimate.tier == "professional"
    videos = [line for line in estimate.lines if line.kind == "video"]
    assert len(videos) == len(made.ladder.rungs) > 1
    assert all("MULTI_PASS_HQ" in line.detail for line in videos)
    sd = next(line for line in videos if " SD " in line.detail)
    assert sd.usd == pytest.approx(0.012 * 1.75)  # $0.021 a minute, AWS's SD multi-pass price


def test_a_short_clip_is_billed_the_minimum() -> None:
    made = job(source(1280, 720, 30.0, duration=3.0))
    estimate = estimate_job(made.request, made.ladder, 3.0, PRICES)
    assert {line.minutes for line in estimate.lines} == {10 / 60}


@given(
    first=st.floats(min_value=0, max_value=7200),
    extra=st.floats(min_value=0, max_value=7200),
    name=st.sampled_from(sorted(PROBES)),
    ladder=st.sampled_from(["aws-vod", "apple", "default", "auto"]),
)
def test_more_minutes_never_cost_less(first: float, extra: float, name: str, ladder: str) -> None:
    made = job(PROBES[name], ladder)
    shorter = estimate_job(made.request, made.ladder, first, PRICES).total_usd
    longer = estimate_job(made.request, made.ladder, first + extra, PRICES).total_usd
    assert longer >= shorter


@given(name=st.sampled_from(sorted(PROBES)), ladder=st.sampled_from(["aws-vod", "apple"]))
def test_the_professional_tier_never_costs_less(name: str, ladder: str) -> None:
    made = job(PROBES[name], ladder)
    basic = estimate_job(made.request, made.ladder, 60.0, PRICES)
    accelerated = {**made.request, "AccelerationSettings": {"Mode": "ENABLED"}}
    professional = estimate_job(accelerated, made.ladder, 60.0, PRICES)
    assert professional.tier == "professional"
    assert professional.total_usd >= basic.total_usd


@given(used=st.floats(min_value=0, max_value=5_000_000))
def test_volume_discounts_only_lower_the_rate(used: float) -> None:
    made = job(PROBES["1080p25"])
    fresh = estimate_job(made.request, made.ladder, 60.0, PRICES).total_usd
    assert (
        estimate_job(made.request, made.ladder, 60.0, PRICES, used_minutes=used).total_usd <= fresh
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            lambda d: d["mediaconvert"].pop("audio_usd_per_minute"),
            "mediaconvert.audio_usd_per_minute",
        ),
        (lambda d: d["s3"].update(put_usd_per_1000=-1), "s3.put_usd_per_1000"),
        (lambda d: d["mediaconvert"].update(size_classse=[]), "mediaconvert.size_classse"),
        (
            lambda d: d["mediaconvert"]["tiers"]["basic"][-1].update(up_to_minutes=5),
            "tiers.basic",
        ),
        (lambda d: d.update(as_of="last year"), "as_of"),
    ],
)
def test_a_bad_price_file_is_refused_naming_the_field(change: Any, named: str) -> None:
    data = shipped_json()
    change(data)
    with pytest.raises(PriceFileError, match=named.replace(".", r"\.")):
        load_prices(json.dumps(data), "mine.json")


def test_malformed_json_is_refused_with_its_line() -> None:
    text = json.dumps(shipped_json(), indent=2).replace('"region"', "region", 1)
    with pytest.raises(PriceFileError, match=r"^mine\.json: line 3, column"):
        load_prices(text, "mine.json")


def test_cost_estimate_prints_a_priced_job_for_a_real_clip(clip) -> None:
    result = runner.invoke(cost_app, ["estimate", str(clip("long9s.mp4")), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["target"] == "aws" and body["tier"] == "basic"
    total = sum(line["usd"] or 0 for line in body["lines"])
    assert body["total_usd"] == pytest.approx(total, abs=1e-5)
    assert {line["kind"] for line in body["lines"]} >= {"video", "audio"}
    plain = runner.invoke(cost_app, ["estimate", str(clip("long9s.mp4"))])
    assert plain.exit_code == 0 and "per source minute" in plain.stdout


def test_cost_estimate_prices_every_codec_family_the_encode_makes(clip, monkeypatch) -> None:
    """AV1 beside H.264 (the product default) makes the MediaConvert job Professional; the
    estimate follows `--codecs`, else PRIMEVOD_CODECS, as the encode does."""

    def priced(*args: str) -> dict[str, Any]:
        result = runner.invoke(cost_app, ["estimate", str(clip("long9s.mp4")), "--json", *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    h264 = priced("--codecs", "h264")
    both = priced("--codecs", "h264,av1")
    assert h264["tier"] == "basic" and both["tier"] == "professional"
    assert "AV1" in " ".join(line["detail"] for line in both["lines"])
    assert both["total_usd"] > h264["total_usd"]
    monkeypatch.setenv("PRIMEVOD_CODECS", "h264,av1")
    assert priced()["total_usd"] == both["total_usd"]
    refused = runner.invoke(cost_app, ["estimate", str(clip("long9s.mp4")), "--codecs", "vp9"])
    assert refused.exit_code == 2 and "request.invalid" in refused.output


def test_cost_estimate_with_a_price_file_of_ones_own(clip, tmp_path: Path) -> None:
    data = shipped_json()
    data["mediaconvert"]["tiers"]["basic"] = [{"up_to_minutes": None, "usd_per_minute": 1.0}]
    mine = tmp_path / "prices.json"
    mine.write_text(json.dumps(data))
    result = runner.invoke(
        cost_app, ["estimate", str(clip("long9s.mp4")), "--prices", str(mine), "--json"]
    )
    assert result.exit_code == 0, result.output
    video = [line for line in json.loads(result.stdout)["lines"] if line["kind"] == "video"]
    assert video[0]["usd"] == pytest.approx(10 / 60, abs=1e-5)  # $1 a minute, 10 s minimum


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--prices", "/nonexistent/prices.json"], "prices.invalid"),
        (["--ladder", "nope"], "ladder.unknown_policy"),
    ],
)
def test_cost_estimate_refuses_bad_options(clip, args: list[str], code: str) -> None:
    result = runner.invoke(cost_app, ["estimate", str(clip("long9s.mp4")), *args])
    assert result.exit_code == 2 and code in result.output


def test_cost_estimate_of_a_text_file_is_source_unreadable(corrupt) -> None:
    result = runner.invoke(cost_app, ["estimate", str(corrupt["text"])])
    assert result.exit_code == 2 and "source.unreadable" in result.output


def test_prices_roundtrip_through_the_model() -> None:
    again = load_prices(json.dumps(shipped_json()), "again")
    assert isinstance(again, Prices) and again == PRICES

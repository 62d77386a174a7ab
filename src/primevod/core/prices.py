"""A dated price file (src/primevod/pricing/*.json) as a typed model, refused at load with
the line (malformed JSON) or the field (a missing, misspelt or negative price) named.

Pure: `load_prices(text, name)` takes the file's text; reading it is the caller's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from primevod.core.json_documents import load_document

Usd = float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VolumeTier(_Strict):
    up_to_minutes: float | None = Field(description="cumulative monthly minutes; null: the rest")
    usd_per_minute: Usd = Field(ge=0)


class SizeClass(_Strict):
    name: str
    below_lines: int | None = Field(description="the class holds pictures with fewer lines")
    multiplier: float = Field(gt=0)


class FrameRateClass(_Strict):
    up_to_fps: float | None
    multiplier: float = Field(gt=0)


def _open_ended_last(bounds: Sequence[float | None], what: str) -> None:
    if not bounds or bounds[-1] is not None or None in bounds[:-1]:
        raise ValueError(f"{what}: the last entry (and only it) must have no upper bound (null)")
    given = [b for b in bounds[:-1] if b is not None]
    if given != sorted(given):
        raise ValueError(f"{what}: upper bounds must increase")


class MediaConvertPrices(_Strict):
    tiers: dict[Literal["basic", "professional"], list[VolumeTier]]
    size_classes: list[SizeClass]
    frame_rates: list[FrameRateClass]
    quality_multipliers: dict[str, float]
    codec_multipliers: dict[str, float]
    basic_quality_levels: list[str]
    basic_codecs: list[str]
    audio_usd_per_minute: Usd = Field(ge=0)
    frame_capture_usd_per_minute: Usd | None = Field(None, ge=0, description="null: not known")
    minimum_billed_seconds: float = Field(ge=0)

    @model_validator(mode="after")
    def _bounded(self) -> MediaConvertPrices:
        if set(self.tiers) != {"basic", "professional"}:
            raise ValueError("tiers: both basic and professional are needed")
        for name, tiers in self.tiers.items():
            _open_ended_last([t.up_to_minutes for t in tiers], f"tiers.{name}")
        _open_ended_last([c.below_lines for c in self.size_classes], "size_classes")
        _open_ended_last([r.up_to_fps for r in self.frame_rates], "frame_rates")
        return self


class S3Prices(_Strict):
    storage_usd_per_gb_month: dict[str, Usd]
    put_usd_per_1000: Usd = Field(ge=0)
    get_usd_per_1000: Usd = Field(ge=0)


class EgressTier(_Strict):
    up_to_gb: float | None
    usd_per_gb: Usd = Field(ge=0)


class CloudFrontPrices(_Strict):
    egress_usd_per_gb: list[EgressTier]
    free_gb_per_month: float = Field(ge=0)
    https_usd_per_10000: Usd = Field(ge=0)


class StepFunctionsPrices(_Strict):
    usd_per_1000_transitions: Usd = Field(ge=0)


class LambdaPrices(_Strict):
    usd_per_gb_second: Usd = Field(ge=0)
    usd_per_million_requests: Usd = Field(ge=0)


class Prices(_Strict):
    provider: Literal["aws"]
    region: str
    currency: Literal["USD"]
    as_of: date
    sources: list[str] = Field(min_length=1)
    notes: list[str] = []
    mediaconvert: MediaConvertPrices
    s3: S3Prices
    cloudfront: CloudFrontPrices
    step_functions: StepFunctionsPrices
    lambda_: LambdaPrices = Field(alias="lambda")


class PriceFileError(ValueError):
    """A price file that cannot be used, with where it is wrong."""


def load_prices(text: str, name: str = "prices") -> Prices:
    return load_document(Prices, text, name, PriceFileError)

"""Price files: the newest one shipped in `primevod/pricing/` for a provider and region, or
a file of the user's own (`--prices FILE`, `PRIMEVOD_PRICES`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from primevod.core.prices import PriceFileError, Prices, load_prices

PACKAGE = "primevod.pricing"


def shipped(provider: str = "aws", region: str = "us-east-1") -> list[str]:
    """The shipped files for `provider` and `region`, oldest first (YYYY-MM in the name)."""
    names = (f.name for f in resources.files(PACKAGE).iterdir())
    return sorted(n for n in names if n.startswith(f"{provider}-{region}-") and n.endswith(".json"))


def read_prices(
    path: Path | None = None, provider: str = "aws", region: str = "us-east-1"
) -> Prices:
    if path is not None:
        try:
            text = path.read_text()
        except OSError as exc:
            raise PriceFileError(f"{path}: {exc.strerror or exc}") from None
        return load_prices(text, str(path))
    files = shipped(provider, region)
    if not files:
        raise PriceFileError(f"no price file shipped for {provider} {region}")
    return load_prices(resources.files(PACKAGE).joinpath(files[-1]).read_text(), files[-1])

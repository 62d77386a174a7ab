"""Media errors with stable codes.

Every error a user can cause carries a stable, dotted ``code`` (for machines, the catalog and
alarms) and a one-line ``message`` (for people). Codes never change once released.
"""

from __future__ import annotations

# code -> what it means; the single list of codes the media core raises.
ERROR_CODES: dict[str, str] = {
    "source.missing": "the source file does not exist",
    "source.expired": "the lifecycle rules expired the source; the asset cannot be encoded again",
    "source.empty": "the source file is empty",
    "source.unreadable": "the file is not a media file FFmpeg can read",
    "source.truncated": "the media is truncated or cannot be decoded to its end",
    "source.no_video": "the file has no video stream",
    "source.no_streams": "the file has neither video nor audio",
    "source.unsupported_codec": "no decoder for the stream's codec",
    "source.dimensions": "width or height outside the accepted range",
    "source.duration": "duration missing or too short",
    "source.too_long": "longer than the longest source accepted (12 h; 30 s on the dev profile)",
    "source.frame_rate": "frame rate missing or outside the accepted range",
    "source.subtitles_invalid": "a subtitle file is too big, not UTF-8, or not WebVTT or SRT",
    "ladder.unknown_policy": "no ladder policy of that name",
    "ladder.empty": "the policy produced no rung for this source",
    "encode.failed": "FFmpeg exited with an error",
    "encode.cancelled": "the encode was cancelled",
    "package.invalid": "the packaged output failed validation",
    "request.invalid": "an argument is out of range",
    "quality.below_target": "the top rung's measured quality is below its target",
    "quality.unmeasured": "the quality of the encoded renditions could not be measured",
    "workflow.cancelled": "the asset's workflow was cancelled on request",
    "workflow.step_failed": "a step kept failing after its retries",
    "workflow.failed": "the workflow ended without a result",
}


class NotFound(LookupError):
    """No record (asset, execution, upload, key) with that id in the catalog."""


class MediaError(Exception):
    """A user-caused or media-caused failure with a stable code and a one-line message."""

    def __init__(self, code: str, message: str, *, detail: str | None = None) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message.strip().splitlines()[0] if message.strip() else ERROR_CODES[code]
        self.detail = detail

    @property
    def permanent(self) -> bool:
        """Whether retrying with the same input can never succeed (bad source, bad request)."""
        return self.code.split(".")[0] in {"source", "ladder", "request"}

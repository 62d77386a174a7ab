"""Encrypted HLS (RFC 8216 METHOD=AES-128): the asset option, the per-asset content key, the
EXT-X-KEY tags of a media playlist and where players fetch the key. Pure: text and bytes in,
text and bytes out; the cipher itself runs in the media adapter.

Each media segment is encrypted whole (AES-128-CBC, PKCS7 padding) with the asset's key and
an IV of its own, written explicitly in an EXT-X-KEY line just before the segment. The init
segment stays in the clear: every EXT-X-KEY follows the EXT-X-MAP, and a key applies to the
Media Initialization Section only when it precedes the EXT-X-MAP (RFC 8216 section 4.3.2.5)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from primevod.core.hls import parse_attributes

NONE = "none"
AES_128 = "aes-128"
ENCRYPTION_CHOICES = (NONE, AES_128)
METADATA_FIELD = "encryption"  # the asset's metadata entry that asks for it
KEY_BYTES = 16  # AES-128
IV_BYTES = 16
KEY_ROUTE = "/api/v1/keys/{asset_id}"


def check_encryption(value: str | None) -> str | None:
    """The asset option normalised: "aes-128", or None for no encryption (unset or "none").
    Raises ValueError naming the choices for anything else."""
    if value is None:
        return None
    normalised = value.strip().lower()
    if normalised not in ENCRYPTION_CHOICES:
        choices = ", ".join(ENCRYPTION_CHOICES)
        raise ValueError(f"unknown encryption {value!r}: one of {choices}")
    return None if normalised == NONE else normalised


def encryption_of(metadata: dict[str, object]) -> str | None:
    """What an asset's metadata asks for (None: clear segments). A value the API or the CLI
    would have refused raises ValueError: better to fail the encode than to publish clear."""
    value = metadata.get(METADATA_FIELD)
    return check_encryption(str(value)) if value is not None else None


def new_content_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def new_iv() -> bytes:
    return secrets.token_bytes(IV_BYTES)


def iv_hex(iv: bytes) -> str:
    """An IV as EXT-X-KEY's hexadecimal-sequence: 0x and 32 hex digits (RFC 8216 4.3.2.4)."""
    if len(iv) != IV_BYTES:
        raise ValueError(f"an AES-128 IV has {IV_BYTES} bytes, not {len(iv)}")
    return "0x" + iv.hex().upper()


def parse_iv(text: str) -> bytes:
    """The bytes of an IV attribute (0x/0X and 32 hex digits); ValueError otherwise."""
    if not text[:2].lower() == "0x":
        raise ValueError(f"IV {text!r} is not a hexadecimal-sequence")
    raw = bytes.fromhex(text[2:])
    if len(raw) != IV_BYTES:
        raise ValueError(f"IV {text!r} is not {IV_BYTES} bytes")
    return raw


def key_uri(asset_id: str, key_base_url: str | None = None) -> str:
    """Where players fetch the key: the server's key route, as an absolute path (same origin
    as the edge that serves the playlists) or on `key_base_url` (the API server's own URL
    when the playlists come from a CDN on another origin)."""
    path = KEY_ROUTE.format(asset_id=asset_id)
    return f"{key_base_url.rstrip('/')}{path}" if key_base_url else path


def key_tag(uri: str, iv: bytes) -> str:
    if '"' in uri or "\n" in uri:
        raise ValueError("a key URI may not contain a double quote or a line break")
    return f'#EXT-X-KEY:METHOD=AES-128,URI="{uri}",IV={iv_hex(iv)}'


def insert_key_tags(text: str, uri: str, ivs: list[bytes]) -> str:
    """The media playlist with an EXT-X-KEY line before each segment's EXTINF (segment i
    gets ivs[i]), all after the EXT-X-MAP so the init segment stays clear. Raises
    ValueError when the playlist already has keys, the IVs do not match the segments, or a
    segment comes before the EXT-X-MAP."""
    lines = text.splitlines()
    if any(line.startswith("#EXT-X-KEY") for line in lines):
        raise ValueError("the playlist is already encrypted")
    out: list[str] = []
    seen_map = False
    count = 0
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#EXT-X-MAP:"):
            if count:
                raise ValueError("an EXT-X-MAP after a segment: its init would be encrypted")
            seen_map = True
        elif stripped.startswith("#EXTINF:"):
            if count >= len(ivs):
                raise ValueError(f"more segments than the {len(ivs)} IVs")
            if not seen_map:
                raise ValueError("a segment before the EXT-X-MAP")
            out.append(key_tag(uri, ivs[count]))
            count += 1
        out.append(line)
    if count != len(ivs):
        raise ValueError(f"{count} segments, {len(ivs)} IVs")
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class SegmentKey:
    """A segment of an encrypted media playlist: its URI, and the key URI and IV it needs
    (None for a clear segment: no key, or METHOD=NONE)."""

    uri: str
    key_uri: str | None
    iv: bytes | None


def segment_keys(text: str) -> list[SegmentKey]:
    """Each segment of a media playlist with the key that applies to it (the last EXT-X-KEY
    before it). A key without an IV uses the media sequence number (RFC 8216 5.2)."""
    sequence = 0
    method, uri, iv = "NONE", None, None
    found: list[SegmentKey] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            sequence = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-KEY:"):
            attrs = parse_attributes(line.split(":", 1)[1])
            method, uri = attrs.get("METHOD", "NONE"), attrs.get("URI")
            iv = parse_iv(attrs["IV"]) if "IV" in attrs else None
            if method not in ("NONE", "AES-128"):
                raise ValueError(f"unsupported key method {method}")
        elif line and not line.startswith("#"):
            if method == "NONE":
                found.append(SegmentKey(line, None, None))
            else:
                found.append(SegmentKey(line, uri, iv or sequence.to_bytes(IV_BYTES, "big")))
            sequence += 1
    return found


def is_encrypted(text: str) -> bool:
    """Whether any segment of the media playlist needs a key."""
    return any(s.key_uri is not None for s in segment_keys(text))

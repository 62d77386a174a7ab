"""Encrypted HLS on a finished package: every media segment encrypted whole with AES-128-CBC
(PKCS7 padding) under the asset's content key, an explicit IV per segment written in the
media playlist (core/content_keys.py), the init segments left clear. Runs after the packager
measured and validated the clear package, before it is staged or moved anywhere.

Whole-segment AES is an HLS method only: DASH players cannot play these segments, so the
encrypted package drops its MPD and is HLS only. The key itself is never written here."""

from __future__ import annotations

import shutil
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from primevod.core.content_keys import (
    AES_128,
    KEY_BYTES,
    insert_key_tags,
    new_iv,
    segment_keys,
)
from primevod.core.errors import MediaError
from primevod.core.hls import parse_media_playlist, without_iframe_variants
from primevod.core.outputs import PackageResult, RenditionOutput


def encrypt_segment(data: bytes, key: bytes, iv: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def decrypt_segment(data: bytes, key: bytes, iv: bytes) -> bytes:
    """Raises ValueError when the bytes are not a whole number of blocks or the padding is
    wrong (a wrong key or IV, most likely)."""
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def _check_key(key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise MediaError("encode.failed", f"an AES-128 content key has {KEY_BYTES} bytes")


def _encrypt_rendition(root: Path, rendition: RenditionOutput, key: bytes, uri: str) -> int:
    """Encrypt one rendition's segments in place and write its playlist's EXT-X-KEY tags;
    returns the rendition's bytes now (init segment included)."""
    playlist = root / rendition.playlist
    text = playlist.read_text()
    info = parse_media_playlist(text)
    ivs = [new_iv() for _ in info.segments]
    size = (root / info.map_uri).stat().st_size if info.map_uri else 0
    for segment, iv in zip(info.segments, ivs, strict=True):
        path = root / segment.uri
        sealed = encrypt_segment(path.read_bytes(), key, iv)
        partial = path.with_name(path.name + ".enc")
        partial.write_bytes(sealed)
        partial.replace(path)
        size += len(sealed)
    try:
        playlist.write_text(insert_key_tags(text, uri, ivs))
    except ValueError as exc:
        raise MediaError("encode.failed", f"{rendition.playlist}: {exc}") from None
    return size


def encrypt_package(result: PackageResult, key: bytes, uri: str) -> PackageResult:
    """The package in `result.output_dir` encrypted for HLS AES-128 with `key`, players
    fetching the key from `uri`. The renditions keep the bit rates measured on the clear
    segments (padding adds at most 16 bytes a segment); their byte counts are the stored
    ones. The MPD goes: its segments would be undecodable for a DASH player."""
    _check_key(key)
    root = Path(result.output_dir)
    renditions = [
        r.model_copy(update={"bytes": _encrypt_rendition(root, r, key, uri)})
        for r in result.renditions
    ]
    if result.manifest:
        (root / result.manifest).unlink(missing_ok=True)
    _drop_iframe_playlists(root, result)
    return result.model_copy(
        update={
            "manifest": None,
            "iframe_playlists": [],
            "encryption": AES_128,
            "renditions": renditions,
            "total_bytes": sum(p.stat().st_size for p in root.rglob("*") if p.is_file()),
        }
    )


def _drop_iframe_playlists(root: Path, result: PackageResult) -> None:
    """I-frame playlists go: their byte ranges would cut whole-segment AES-128 ciphertext,
    which no player can decrypt in pieces. Subtitles (WebVTT) stay in the clear."""
    if not result.iframe_playlists:
        return
    master = root / result.master
    master.write_text(without_iframe_variants(master.read_text()))
    for name in result.iframe_playlists:
        (root / name).unlink(missing_ok=True)


def decrypted_copy(source: Path, target: Path, key: bytes) -> None:
    """A copy of the package in `source` at `target` with its segments decrypted (for the
    steps that read the pictures, the quality check); the playlists are copied as they
    are. Raises MediaError when a segment does not decrypt with `key`."""
    _check_key(key)
    shutil.copytree(source, target, dirs_exist_ok=True)
    for playlist in sorted(target.glob("*.m3u8")):
        for segment in segment_keys(playlist.read_text()):
            if segment.iv is None:
                continue
            path = target / segment.uri
            try:
                path.write_bytes(decrypt_segment(path.read_bytes(), key, segment.iv))
            except ValueError:
                raise MediaError(
                    "package.invalid", f"{segment.uri} does not decrypt with the asset's key"
                ) from None

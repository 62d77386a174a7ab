"""The envelope format of encryption at rest: round trips of many sizes (chunk boundaries,
empty), ranges, tampering, truncation, reordering, torn key records, the key provider and
the sealed text form."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primevod.adapters.crypto import envelope
from primevod.adapters.crypto.local_keys import KeyFileError, LocalKeyProvider
from primevod.adapters.crypto.sealed_files import Sealer, text_key_id
from primevod.ports.keys import KeyProvider, KeyUnavailable

CHUNK = 64  # small chunks: many boundaries in little data


@pytest.fixture
def keys(tmp_path: Path) -> LocalKeyProvider:
    return LocalKeyProvider(tmp_path / "master.key")


def seal(keys: KeyProvider, data: bytes, *, stream: bool = False, sized: bool = False) -> bytes:
    src = io.BytesIO(data) if stream else data
    size = len(data) if sized else None
    return b"".join(envelope.seal_segment(keys, src, size=size, chunk_size=CHUNK))


def read_all(keys: KeyProvider, blob: bytes, start: int = 0, end: int | None = None) -> bytes:
    def read_at(offset: int, length: int) -> bytes:
        return blob[offset : offset + length]

    segs = envelope.segments(read_at, len(blob))
    return b"".join(envelope.open_range(keys, read_at, segs, start, end))


SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5, 1000]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("stream", "sized"), [(False, False), (True, False), (False, True)])
def test_round_trip_of_sizes(keys, size, stream, sized) -> None:
    data = os.urandom(size)
    blob = seal(keys, data, stream=stream, sized=sized)
    assert len(blob) == envelope.HEADER_SIZE + envelope.body_size(size, CHUNK)
    assert read_all(keys, blob) == data
    assert envelope.open_bytes(keys, blob) == data
    assert len(data) < 16 or data not in blob  # short random strings may occur by chance


def test_layout_is_fixed() -> None:
    assert envelope.HEADER_SIZE == 512 and envelope.RECORD_SIZE == 240
    assert envelope.DEFAULT_CHUNK + envelope.TAG_SIZE == 2**20  # 1 MiB sealed chunks
    for size in SIZES:
        body = envelope.body_size(size, CHUNK)
        assert envelope.plaintext_size_of(body, CHUNK) == size
    with pytest.raises(envelope.FormatError):
        envelope.plaintext_size_of(CHUNK + envelope.TAG_SIZE, CHUNK)  # a full chunk, no final


def test_header_parse_and_pack_round_trip(keys) -> None:
    blob = seal(keys, b"x" * 100, sized=True)
    header = envelope.parse_header(blob[: envelope.HEADER_SIZE])
    assert header.pack() == blob[: envelope.HEADER_SIZE]
    assert header.plaintext_size == 100 and header.chunk_size == CHUNK
    assert header.active[1].key_id == keys.current_key_id()
    with pytest.raises(envelope.FormatError):
        envelope.parse_header(b"not sealed" + bytes(600))


@given(data=st.binary(max_size=700), start=st.integers(0, 800), length=st.integers(0, 300))
@settings(max_examples=150, deadline=None)
def test_ranges_decrypt_only_what_is_asked(tmp_path_factory, data, start, length) -> None:
    keys = LocalKeyProvider(tmp_path_factory.mktemp("k") / "master.key")
    blob = seal(keys, data)
    end = start + length - 1
    expected = data[start : end + 1] if length else b""
    assert read_all(keys, blob, start, end) == expected


def test_multi_segment_objects(keys) -> None:
    """Parts sealed one by one and joined read as one object."""
    parts = [os.urandom(n) for n in (CHUNK * 3, 0, CHUNK + 7, 5)]
    blob = b"".join(seal(keys, p, sized=True) for p in parts[:-1]) + seal(keys, parts[-1])
    whole = b"".join(parts)
    assert read_all(keys, blob) == whole
    assert (
        read_all(keys, blob, CHUNK * 3 - 2, CHUNK * 3 + 10) == whole[CHUNK * 3 - 2 : CHUNK * 3 + 11]
    )


@pytest.mark.parametrize("where", ["header-fixed", "chunk", "tag", "wrapped"])
def test_tampering_is_detected(keys, where) -> None:
    data = os.urandom(300)
    blob = bytearray(seal(keys, data))
    offset = {
        "header-fixed": 10,  # chunk size / nonce prefix, bound into every chunk's AAD
        "chunk": envelope.HEADER_SIZE + 5,
        "tag": len(blob) - 1,
        "wrapped": envelope.RECORD_OFFSETS[0] + 4 + 1 + envelope.MAX_KEY_ID + 2 + 3,
    }[where]
    blob[offset] ^= 0x01
    with pytest.raises((envelope.FormatError, KeyUnavailable)):
        read_all(keys, bytes(blob))


def test_truncation_and_reordering_are_detected(keys) -> None:
    data = os.urandom(CHUNK * 4)
    blob = seal(keys, data)
    sealed = CHUNK + envelope.TAG_SIZE
    body = blob[envelope.HEADER_SIZE :]
    chunks = [body[i : i + sealed] for i in range(0, len(body), sealed)]
    cut_at_boundary = blob[: envelope.HEADER_SIZE + 3 * sealed]  # the final chunks dropped
    with pytest.raises(envelope.FormatError):
        read_all(keys, cut_at_boundary)
    with pytest.raises(envelope.FormatError):
        read_all(keys, blob[:-3])
    swapped = blob[: envelope.HEADER_SIZE] + chunks[1] + chunks[0] + b"".join(chunks[2:])
    with pytest.raises(envelope.FormatError):
        read_all(keys, swapped)


def test_rewrap_changes_only_a_key_record_and_survives_a_torn_write(keys) -> None:
    data = os.urandom(500)
    blob = seal(keys, data)
    old_id = keys.current_key_id()
    new_id = keys.add_version()
    rewrapped = envelope.rewrap_blob(keys, blob)
    assert rewrapped[envelope.HEADER_SIZE :] == blob[envelope.HEADER_SIZE :]  # body untouched
    header = envelope.parse_header(rewrapped)
    assert header.active[1].key_id == new_id and header.active[1].seq == 2
    assert keys.drop_versions({old_id}) == [old_id]
    assert read_all(keys, rewrapped) == data
    with pytest.raises(KeyUnavailable):
        read_all(keys, blob)  # the old wrapping is gone with its master
    # a torn write of the next record: the record in use still opens the object
    torn = bytearray(envelope.rewrap_blob(keys, rewrapped))
    assert bytes(torn) == rewrapped  # already current: nothing to write
    slot = envelope.RECORD_OFFSETS[0]  # the unused slot (the first record, seq 1)
    torn[slot : slot + 20] = os.urandom(20)
    assert read_all(keys, bytes(torn)) == data


def test_key_file_is_private_and_versions_persist(tmp_path) -> None:
    path = tmp_path / "home" / "master.key"
    keys = LocalKeyProvider(path)
    plain, wrapped, key_id = keys.generate_data_key()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and key_id == "local:v1"
    keys.add_version()
    other = LocalKeyProvider(path)  # another process
    assert other.current_key_id() == "local:v2"
    assert other.unwrap(wrapped, key_id) == plain
    rewrapped, new_id = other.rewrap(wrapped, key_id)
    assert new_id == "local:v2" and keys.unwrap(rewrapped, new_id) == plain
    with pytest.raises(KeyUnavailable):
        keys.unwrap(wrapped, "local:v2")  # a wrapped key moved to another id fails
    path.chmod(0o644)
    with pytest.raises(KeyFileError):
        LocalKeyProvider(path).current_key_id()


def test_env_master_key(tmp_path) -> None:
    import base64

    keys = LocalKeyProvider(env_key=base64.b64encode(os.urandom(32)).decode())
    assert envelope.open_bytes(keys, envelope.seal_bytes(keys, b"secret")) == b"secret"
    with pytest.raises(KeyFileError):
        keys.add_version()
    with pytest.raises(KeyFileError):
        LocalKeyProvider(env_key=base64.b64encode(b"short").decode())


def test_sealed_text_form(keys) -> None:
    sealer = Sealer(keys)
    secret = "whsec_" + "a" * 32
    sealed = sealer.seal_text(secret)
    assert secret not in sealed and len(sealed) <= 200  # fits the webhook secret column
    assert sealer.open_text(sealed) == secret and sealer.open_text("plain") == "plain"
    keys.add_version()
    again = sealer.rewrap_text(sealed)
    assert text_key_id(again) == "local:v2" and sealer.open_text(again) == secret
    assert text_key_id(sealer.rewrap_text("was plain")) == "local:v2"


def test_sealing_reader_respects_read_sizes(keys) -> None:
    data = os.urandom(CHUNK * 3 + 9)
    reader = envelope.SealingReader(envelope.seal_segment(keys, data, chunk_size=CHUNK))
    pieces = []
    while piece := reader.read(50):
        assert len(piece) <= 50
        pieces.append(piece)
    assert envelope.open_bytes(keys, b"".join(pieces)) == data

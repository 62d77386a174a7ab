"""The envelope format: chunked AES-256-GCM under a per-object data key that a master key
(the key provider's) wraps.

A sealed object is one or more *segments* back to back (a single put is one segment; a
multipart upload is one segment per part, each sealed as it arrives, so that no part's
plaintext is ever written). A segment is a fixed 512-byte header slot followed by chunks:

    header (512 bytes)
      fixed part (32 bytes, bound into every chunk's AAD):
        magic "PVSEAL" | format version u8 | flags u8 | chunk size u32 |
        nonce prefix (8 random bytes) | plaintext size u64 (all ones: "to the end") | 4 zero
      two key records (240 bytes each), the newer one (higher sequence, valid CRC) in use:
        sequence u32 | key id length u8 | key id (64) | wrapped length u16 |
        wrapped data key (165) | CRC-32 of the record u32
    chunks: AES-256-GCM(data key, nonce = prefix | chunk index u32,
                         AAD = fixed part | chunk index u32 | final flag u8)

A segment of P plaintext bytes has P // C + 1 chunks (C the chunk size): every chunk but the
last holds C bytes, the last (final flag set) holds P mod C, possibly none. So a segment's
length gives back its plaintext size, truncation at a chunk boundary fails the final flag,
and reordered chunks fail their index.

Key rotation rewrites only a key record, in place, never the chunks: the record of the two
that is *not* in use is overwritten (one pwrite of 240 bytes, then fsync) with a higher
sequence, so a crash mid-write leaves the record in use intact (its CRC tells a torn one).
Why in place, not a new file with the body copied (copy_file_range + rename): no data is
copied, and a rename would race a concurrent put of the same key (the old object could
replace the new one); a pwrite into the inode we opened cannot."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from primevod.ports.keys import KeyProvider

MAGIC = b"PVSEAL"
FORMAT_VERSION = 1
HEADER_SIZE = 512
TAG_SIZE = 16
DEFAULT_CHUNK = 2**20 - TAG_SIZE  # a sealed chunk is exactly 1 MiB on disk
UNKNOWN_SIZE = 2**64 - 1
MAX_KEY_ID = 64
MAX_WRAPPED = 165

_FIXED = struct.Struct(">6sBBI8sQ4x")  # 32 bytes
_RECORD = struct.Struct(f">IB{MAX_KEY_ID}sH{MAX_WRAPPED}s")  # CRC-32 follows
RECORD_SIZE = _RECORD.size + 4  # 240
RECORD_OFFSETS = (_FIXED.size, _FIXED.size + RECORD_SIZE)
_AAD_TAIL = struct.Struct(">IB")
assert _FIXED.size + 2 * RECORD_SIZE == HEADER_SIZE

ReadAt = Callable[[int, int], bytes]  # (offset, length) -> bytes


class FormatError(ValueError):
    """Not a sealed object, or one that was tampered with or truncated."""


@dataclass(frozen=True)
class KeyRecord:
    seq: int
    key_id: str
    wrapped: bytes

    def pack(self) -> bytes:
        kid = self.key_id.encode()
        if len(kid) > MAX_KEY_ID or len(self.wrapped) > MAX_WRAPPED:
            raise ValueError("key id or wrapped key too long for the header")
        body = _RECORD.pack(self.seq, len(kid), kid, len(self.wrapped), self.wrapped)
        return body + struct.pack(">I", zlib.crc32(body))

    @staticmethod
    def unpack(raw: bytes) -> KeyRecord | None:
        """None for an empty or torn record."""
        body, (crc,) = raw[: _RECORD.size], struct.unpack(">I", raw[_RECORD.size :])
        if crc != zlib.crc32(body) or not any(body):
            return None
        seq, kid_len, kid, wrapped_len, wrapped = _RECORD.unpack(body)
        if kid_len > MAX_KEY_ID or wrapped_len > MAX_WRAPPED or seq == 0:
            return None
        return KeyRecord(seq, kid[:kid_len].decode(), wrapped[:wrapped_len])


@dataclass(frozen=True)
class Header:
    chunk_size: int
    nonce_prefix: bytes
    plaintext_size: int | None  # None: the segment runs to the end of the object
    records: tuple[KeyRecord | None, KeyRecord | None]

    @property
    def fixed(self) -> bytes:
        size = UNKNOWN_SIZE if self.plaintext_size is None else self.plaintext_size
        return _FIXED.pack(MAGIC, FORMAT_VERSION, 0, self.chunk_size, self.nonce_prefix, size)

    @property
    def active(self) -> tuple[int, KeyRecord]:
        """(slot, record) of the key record in use: the valid one with the higher sequence."""
        valid = [(r.seq, slot, r) for slot, r in enumerate(self.records) if r is not None]
        if not valid:
            raise FormatError("no valid key record in the header")
        _, slot, record = max(valid)
        return slot, record

    def pack(self) -> bytes:
        return self.fixed + b"".join(
            r.pack() if r is not None else bytes(RECORD_SIZE) for r in self.records
        )

    def rewrapped(self, key_id: str, wrapped: bytes) -> tuple[int, bytes, Header]:
        """The record to write for a new wrapping: (offset in the header, bytes, new header).
        It goes into the slot not in use, so the one in use survives a torn write."""
        slot, current = self.active
        record = KeyRecord(current.seq + 1, key_id, wrapped)
        records = list(self.records)
        records[1 - slot] = record
        return (
            RECORD_OFFSETS[1 - slot],
            record.pack(),
            Header(
                self.chunk_size, self.nonce_prefix, self.plaintext_size, (records[0], records[1])
            ),
        )


def is_sealed(prefix: bytes) -> bool:
    return prefix[: len(MAGIC)] == MAGIC


def parse_header(raw: bytes) -> Header:
    if len(raw) < HEADER_SIZE or not is_sealed(raw):
        raise FormatError("not a sealed object (no header)")
    _, version, _flags, chunk_size, prefix, size = _FIXED.unpack(raw[: _FIXED.size])
    if version != FORMAT_VERSION or chunk_size <= 0:
        raise FormatError(f"unsupported format version {version} or chunk size {chunk_size}")
    records = tuple(KeyRecord.unpack(raw[o : o + RECORD_SIZE]) for o in RECORD_OFFSETS)
    header = Header(chunk_size, prefix, None if size == UNKNOWN_SIZE else size, records)  # type: ignore[arg-type]
    header.active  # noqa: B018 - raises when neither record is valid
    return header


def chunk_count(plaintext_size: int, chunk_size: int) -> int:
    return plaintext_size // chunk_size + 1


def body_size(plaintext_size: int, chunk_size: int) -> int:
    """Bytes of a segment's chunks (after its header)."""
    return plaintext_size + TAG_SIZE * chunk_count(plaintext_size, chunk_size)


def plaintext_size_of(body: int, chunk_size: int) -> int:
    """The inverse of body_size (FormatError when no plaintext size gives this length)."""
    if body < TAG_SIZE:
        raise FormatError("sealed segment is truncated")
    full = (body - TAG_SIZE) // (chunk_size + TAG_SIZE)
    size = full * chunk_size + (body - TAG_SIZE - full * (chunk_size + TAG_SIZE))
    if body_size(size, chunk_size) != body:
        raise FormatError("sealed segment length is not a whole number of chunks")
    return size


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def _aad(fixed: bytes, index: int, final: bool) -> bytes:
    return fixed + _AAD_TAIL.pack(index, 1 if final else 0)


# -- sealing ---------------------------------------------------------------------------------
def _read_full(src: BinaryIO, size: int) -> bytes:
    """`size` bytes, fewer only at the end (a pipe may return short reads)."""
    data = src.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size and (more := src.read(size - got)):
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def seal_segment(
    keys: KeyProvider,
    src: BinaryIO | bytes | memoryview,
    *,
    size: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> Iterator[bytes]:
    """The sealed pieces of one segment: its header, then each sealed chunk. `size`: the
    plaintext size when known (parts, small objects), else the segment runs to the end."""
    plain_key, wrapped, key_id = keys.generate_data_key()
    header = Header(chunk_size, os.urandom(8), size, (KeyRecord(1, key_id, wrapped), None))
    fixed = header.fixed
    aead = AESGCM(plain_key)
    yield header.pack()
    view = memoryview(src) if isinstance(src, bytes | bytearray | memoryview) else None
    index = 0
    total = 0
    while True:
        if view is not None:
            chunk: bytes | memoryview = view[index * chunk_size : (index + 1) * chunk_size]
        else:
            chunk = _read_full(src, chunk_size)  # type: ignore[arg-type]
        final = len(chunk) < chunk_size
        total += len(chunk)
        yield aead.encrypt(_nonce(header.nonce_prefix, index), chunk, _aad(fixed, index, final))
        if final:
            break
        index += 1
    if size is not None and total != size:
        raise ValueError(f"sealed {total} bytes, announced {size}")


def seal_bytes(keys: KeyProvider, data: bytes, chunk_size: int = DEFAULT_CHUNK) -> bytes:
    """The small-object form (secrets): one segment of known size, in memory."""
    return b"".join(seal_segment(keys, data, size=len(data), chunk_size=chunk_size))


class SealingReader:
    """A file-like view of sealed pieces: hand it to a store's put() and the object is
    written sealed as it is read, a chunk at a time (a piece is returned whole when the
    caller asks for at least as much, so no bytes are copied in between)."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        self._pieces = iter(pieces)
        self._current = memoryview(b"")

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            rest = bytes(self._current) + b"".join(self._pieces)
            self._current = memoryview(b"")
            return rest
        while not self._current:
            piece = next(self._pieces, None)
            if piece is None:
                return b""
            if len(piece) <= n:
                return piece
            self._current = memoryview(piece)
        out, self._current = self._current[:n], self._current[n:]
        return bytes(out)

    def readable(self) -> bool:
        return True


# -- opening ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Segment:
    offset: int  # of the header in the object
    header: Header
    plain_start: int  # offset of its first plaintext byte in the object's plaintext
    plain_size: int

    @property
    def body_offset(self) -> int:
        return self.offset + HEADER_SIZE

    @property
    def end(self) -> int:
        return self.body_offset + body_size(self.plain_size, self.header.chunk_size)


def segments(read_at: ReadAt, total: int) -> list[Segment]:
    """The segments of a sealed object of `total` bytes, from their headers alone."""
    found: list[Segment] = []
    offset = plain = 0
    while offset < total or not found:
        header = parse_header(read_at(offset, HEADER_SIZE))
        body = total - offset - HEADER_SIZE
        if header.plaintext_size is None:
            size = plaintext_size_of(body, header.chunk_size)
        else:
            size = header.plaintext_size
            if body_size(size, header.chunk_size) > body:
                raise FormatError("sealed segment is truncated")
        segment = Segment(offset, header, plain, size)
        found.append(segment)
        offset, plain = segment.end, plain + size
    if offset != total:
        raise FormatError("trailing bytes after the last sealed segment")
    return found


def plaintext_size(segs: list[Segment]) -> int:
    return sum(s.plain_size for s in segs)


def open_range(
    keys: KeyProvider, read_at: ReadAt, segs: list[Segment], start: int = 0, end: int | None = None
) -> Iterator[bytes]:
    """Plaintext bytes start..end (inclusive, like an HTTP Range; None: to the end),
    decrypting only the chunks that hold them. FormatError on any tampering."""
    last = plaintext_size(segs) - 1 if end is None else end
    for seg in segs:
        lo, hi = max(start, seg.plain_start), min(last, seg.plain_start + seg.plain_size - 1)
        if seg.plain_size and lo > hi:
            continue
        if not seg.plain_size and not (start <= seg.plain_start <= last + 1):
            continue
        yield from _open_segment(keys, read_at, seg, lo - seg.plain_start, hi - seg.plain_start)


def _open_segment(
    keys: KeyProvider, read_at: ReadAt, seg: Segment, lo: int, hi: int
) -> Iterator[bytes]:
    header = seg.header
    size, csize = seg.plain_size, header.chunk_size
    _, record = header.active
    aead = AESGCM(keys.unwrap(record.wrapped, record.key_id))
    fixed = header.fixed
    count = chunk_count(size, csize)
    first = lo // csize if size else 0
    final_index = count - 1
    # a range inside the data never needs the empty final chunk, but a whole read checks it
    last_index = final_index if hi >= size - 1 else hi // csize
    for index in range(first, last_index + 1):
        plain_len = csize if index < final_index else size - final_index * csize
        sealed = read_at(seg.body_offset + index * (csize + TAG_SIZE), plain_len + TAG_SIZE)
        if len(sealed) != plain_len + TAG_SIZE:
            raise FormatError("sealed object is truncated")
        try:
            plain = aead.decrypt(
                _nonce(header.nonce_prefix, index),
                sealed,
                _aad(fixed, index, index == final_index),
            )
        except InvalidTag:
            raise FormatError(f"chunk {index} failed authentication") from None
        base = index * csize
        a, b = max(lo - base, 0), min(hi - base + 1, len(plain))
        if a == 0 and b == len(plain):
            if plain:
                yield plain
        elif a < b:
            yield plain[a:b]


def open_bytes(keys: KeyProvider, blob: bytes) -> bytes:
    """A sealed blob's plaintext; a blob that is not sealed is returned as it is (secrets
    written before encryption was turned on keep working)."""
    if not is_sealed(blob):
        return blob

    def read_at(offset: int, length: int) -> bytes:
        return blob[offset : offset + length]

    segs = segments(read_at, len(blob))
    return b"".join(open_range(keys, read_at, segs))


def rewrap_blob(keys: KeyProvider, blob: bytes) -> bytes:
    """A sealed blob with every segment's data key wrapped under the current master."""
    out = bytearray(blob)

    def read_at(offset: int, length: int) -> bytes:
        return bytes(out[offset : offset + length])

    for seg in segments(read_at, len(out)):
        change = rewrap_header(keys, seg.header)
        if change is not None:
            at, record = change
            out[seg.offset + at : seg.offset + at + len(record)] = record
    return bytes(out)


def rewrap_header(keys: KeyProvider, header: Header) -> tuple[int, bytes] | None:
    """(offset in the header, record bytes) to write, or None when already current."""
    _, record = header.active
    if record.key_id == keys.current_key_id():
        return None
    wrapped, key_id = keys.rewrap(record.wrapped, record.key_id)
    at, raw, _ = header.rewrapped(key_id, wrapped)
    return at, raw

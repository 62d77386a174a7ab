"""The stitch's check that one init segment can serve every chunk of a rung, for every codec
family: each chunk's sample entry and decoder configuration record (avcC, hvcC, av1C)
against the rung's first chunk, with an hvcC's SEI (x265's options string, which names the
machine's CPU and threads) left out of the comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from primevod.adapters.media.chunked_stitch import ChunkFacts, check_decoder_configs
from primevod.core.decoder_config import decoding_part
from primevod.core.errors import MediaError

# an av1C: marker/version, profile 0 level 0, 8 bit 4:2:0, then the sequence header OBU
AV1C = bytes.fromhex("81000c000a0b0200000521e7f66017c002")
AVCC = bytes.fromhex("0142c00cffe100176742c00cda05067e7c0440000003004000000c83c50aa801000468ce0bc8")


def nal_array(nal_type: int, *units: bytes) -> bytes:
    body = b"".join(len(u).to_bytes(2, "big") + u for u in units)
    return bytes([0x80 | nal_type]) + len(units).to_bytes(2, "big") + body


def hvcc(sps: bytes, sei: bytes) -> bytes:
    """An hvcC: 22 bytes of fixed fields, then VPS, SPS, PPS and prefix SEI arrays."""
    header = bytes.fromhex("01016000000090000000000000f000fcfdf8f800000f")
    arrays = [
        nal_array(32, b"\x40\x01vps"),
        nal_array(33, b"\x42\x01" + sps),
        nal_array(34, b"\x44\x01pps"),
        nal_array(39, b"\x4e\x01" + sei),
    ]
    return header + bytes([len(arrays)]) + b"".join(arrays)


def chunk(n: int, entry: str, config: bytes, rung: int = 0) -> ChunkFacts:
    return ChunkFacts(Path(f"chunk-{n:05d}-v{rung}.mp4"), 75, entry, config)


def refusal(rungs: list[list[ChunkFacts]]) -> MediaError:
    with pytest.raises(MediaError) as info:
        check_decoder_configs(rungs)
    assert info.value.code == "encode.failed"
    return info.value


def test_chunks_coded_alike_in_every_family_pass() -> None:
    check_decoder_configs(
        [
            [chunk(n, "avc1", AVCC, 0) for n in range(3)],
            [chunk(n, "hvc1", hvcc(b"sps", b"x265 options"), 1) for n in range(3)],
            [chunk(n, "av01", AV1C, 2) for n in range(3)],
        ]
    )


def test_an_av1_chunk_with_another_sequence_header_is_refused_by_name() -> None:
    other = AV1C[:-1] + b"\x03"
    h264 = [chunk(n, "avc1", AVCC, 0) for n in range(3)]
    av1 = [chunk(0, "av01", AV1C, 1), chunk(1, "av01", other, 1), chunk(2, "av01", AV1C, 1)]
    error = refusal([h264, av1])
    assert "rung 1 (av01)" in error.message
    assert "chunk-00001-v1.mp4 was coded with another av1C (sequence header)" in error.message
    assert "than chunk-00000-v1.mp4" in error.message
    assert f"{other.hex()} != {AV1C.hex()}" in error.message
    assert "one init segment cannot serve both" in error.message


def test_hevc_chunks_from_other_machines_differ_only_in_their_sei() -> None:
    """x265 on a machine with other CPU flags and thread counts: the same VPS/SPS/PPS, an
    SEI of another length; the chunks stitch."""
    first = hvcc(b"sps", b"cpuid=1111039 frame-threads=1")
    second = hvcc(b"sps", b"cpuid=1049583 frame-threads=4 numa-pools=16")
    check_decoder_configs([[chunk(0, "hvc1", first), chunk(1, "hvc1", second)]])
    assert decoding_part("hvc1", first) == decoding_part("hvc1", second)
    assert decoding_part("hvc1", first) != first  # the SEI is what was left out


def test_an_hevc_chunk_with_another_sps_is_refused() -> None:
    first, second = hvcc(b"sps-a", b"same"), hvcc(b"sps-b", b"same")
    error = refusal([[chunk(0, "hvc1", first), chunk(1, "hvc1", second)]])
    assert "another hvcC (VPS/SPS/PPS)" in error.message
    assert "first different at byte" in error.message  # long records: where, not all bytes


def test_a_truncated_hvcc_is_compared_whole() -> None:
    whole = hvcc(b"sps", b"sei")
    assert decoding_part("hvc1", whole[:-2]) == whole[:-2]
    refusal([[chunk(0, "hvc1", whole), chunk(1, "hvc1", whole[:-2])]])


def test_a_chunk_of_another_family_is_refused() -> None:
    error = refusal([[chunk(0, "avc1", AVCC), chunk(1, "av01", AV1C)]])
    assert "chunk-00001-v0.mp4 is coded as av01, chunk-00000-v0.mp4 as avc1" in error.message


def test_a_first_chunk_without_a_record_is_refused() -> None:
    error = refusal([[chunk(0, "av01", b""), chunk(1, "av01", AV1C)]])
    assert "chunk-00000-v0.mp4 carries no decoder configuration record" in error.message
    error = refusal([[chunk(0, "", b"")]])
    assert "(sample entry none)" in error.message


def test_a_rung_without_chunks_is_refused() -> None:
    assert "rung 1 has no chunks" in refusal([[chunk(0, "avc1", AVCC)], []]).message

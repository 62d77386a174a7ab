"""Encrypted HLS rules (core/content_keys.py) and the segment cipher: EXT-X-KEY after the
EXT-X-MAP with an explicit IV per segment, IV formatting, the option's values, and
AES-128-CBC with PKCS7 round trips that a wrong key does not open."""

from __future__ import annotations

import pytest

from primevod.adapters.media.hls_encryption import decrypt_segment, encrypt_segment
from primevod.core.content_keys import (
    check_encryption,
    encryption_of,
    insert_key_tags,
    is_encrypted,
    iv_hex,
    key_tag,
    key_uri,
    new_content_key,
    parse_iv,
    segment_keys,
)
from primevod.core.hls import parse_media_playlist

PLAYLIST = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:4
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init_0.m4s"
#EXTINF:4.000000,
chunk_0_00001.m4s
#EXTINF:4.000000,
chunk_0_00002.m4s
#EXTINF:1.500000,
chunk_0_00003.m4s
#EXT-X-ENDLIST
"""
IVS = [bytes([i]) * 16 for i in (1, 2, 3)]


def test_key_tags_follow_the_map_one_per_segment() -> None:
    text = insert_key_tags(PLAYLIST, "/api/v1/keys/a1", IVS)
    lines = text.splitlines()
    keys = [i for i, line in enumerate(lines) if line.startswith("#EXT-X-KEY:")]
    map_line = next(i for i, line in enumerate(lines) if line.startswith("#EXT-X-MAP:"))
    assert len(keys) == 3 and all(k > map_line for k in keys)  # the init stays clear
    for k in keys:
        assert lines[k + 1].startswith("#EXTINF:")
    assert lines[keys[0]] == (
        '#EXT-X-KEY:METHOD=AES-128,URI="/api/v1/keys/a1",IV=0x01010101010101010101010101010101'
    )
    # the playlist still parses as it did: same segments, same map
    before, after = parse_media_playlist(PLAYLIST), parse_media_playlist(text)
    assert after.segments == before.segments and after.map_uri == before.map_uri
    assert [s.iv for s in segment_keys(text)] == IVS
    assert {s.key_uri for s in segment_keys(text)} == {"/api/v1/keys/a1"}
    assert is_encrypted(text) and not is_encrypted(PLAYLIST)


def test_key_tags_refuse_mismatches() -> None:
    with pytest.raises(ValueError, match="more segments than the 2 IVs"):
        insert_key_tags(PLAYLIST, "k", IVS[:2])
    with pytest.raises(ValueError, match="3 segments, 4 IVs"):
        insert_key_tags(PLAYLIST, "k", [*IVS, IVS[0]])
    with pytest.raises(ValueError, match="already encrypted"):
        insert_key_tags(insert_key_tags(PLAYLIST, "k", IVS), "k", IVS)
    late_map = PLAYLIST.replace('#EXT-X-MAP:URI="init_0.m4s"\n', "").replace(
        "#EXT-X-ENDLIST", '#EXT-X-MAP:URI="init_0.m4s"\n#EXT-X-ENDLIST'
    )
    with pytest.raises(ValueError, match="a segment before the EXT-X-MAP"):
        insert_key_tags(late_map, "k", IVS)
    second_map = PLAYLIST.replace(
        "#EXT-X-ENDLIST", '#EXT-X-MAP:URI="init_1.m4s"\n#EXTINF:1.0,\nmore.m4s\n#EXT-X-ENDLIST'
    )
    with pytest.raises(ValueError, match="EXT-X-MAP after a segment"):
        insert_key_tags(second_map, "k", [*IVS, IVS[0]])
    with pytest.raises(ValueError, match="double quote"):
        key_tag('a"b', IVS[0])


def test_iv_formatting() -> None:
    iv = bytes(range(16))
    assert iv_hex(iv) == "0x000102030405060708090A0B0C0D0E0F"
    assert parse_iv(iv_hex(iv)) == iv
    assert parse_iv("0X000102030405060708090a0b0c0d0e0f") == iv
    for bad in ("000102", "0x0001", "zz"):
        with pytest.raises(ValueError):
            parse_iv(bad)
    with pytest.raises(ValueError):
        iv_hex(b"short")


def test_a_key_without_iv_uses_the_media_sequence() -> None:
    text = (
        "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:7\n"
        '#EXT-X-KEY:METHOD=AES-128,URI="k"\n#EXTINF:4,\na.ts\n#EXTINF:4,\nb.ts\n'
        "#EXT-X-KEY:METHOD=NONE\n#EXTINF:4,\nc.ts\n"
    )
    found = segment_keys(text)
    assert [s.iv for s in found] == [(7).to_bytes(16, "big"), (8).to_bytes(16, "big"), None]
    assert found[2].key_uri is None


def test_option_values() -> None:
    assert check_encryption(None) is None
    assert check_encryption("none") is None
    assert check_encryption("AES-128") == "aes-128"
    with pytest.raises(ValueError, match="one of none, aes-128"):
        check_encryption("sample-aes")
    assert encryption_of({"encryption": "aes-128"}) == "aes-128"
    assert encryption_of({}) is None
    with pytest.raises(ValueError):
        encryption_of({"encryption": "rot13"})


def test_key_uri_same_origin_or_api_server() -> None:
    assert key_uri("a1") == "/api/v1/keys/a1"
    assert key_uri("a1", "https://api.example.com/") == "https://api.example.com/api/v1/keys/a1"


def test_segment_cipher_round_trip() -> None:
    key, iv = new_content_key(), IVS[0]
    assert len(key) == 16 and new_content_key() != key
    data = b"\x00\x00\x00\x18styp" + bytes(range(256)) * 3
    sealed = encrypt_segment(data, key, iv)
    assert len(sealed) % 16 == 0 and 0 < len(sealed) - len(data) <= 16
    assert b"styp" not in sealed
    assert decrypt_segment(sealed, key, iv) == data
    with pytest.raises(ValueError):  # a wrong key breaks the padding (almost always)
        decrypt_segment(sealed, bytes(16), iv)

"""Secrets at rest in the envelope's small-object form: signing private keys, the upload
signing secret, webhook secrets. Reads open what is sealed and pass plaintext through, so
secrets written before encryption was turned on keep working (they are sealed when
`primevod kms rotate` runs, see rotation.seal_plain_files)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from primevod.adapters.crypto import envelope
from primevod.adapters.private_files import create_exclusive, write_private
from primevod.ports.keys import KeyProvider

TEXT_PREFIX = "pvenc:"  # a sealed value in a text column
_TEXT_AAD = b"primevod sealed text v1"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _parts(text: str) -> tuple[str, bytes, bytes]:
    """(key id, wrapped data key, nonce|ciphertext) of a sealed text."""
    key_id, wrapped, sealed = text.removeprefix(TEXT_PREFIX).rsplit(":", 2)
    return key_id, _unb64(wrapped), _unb64(sealed)


def text_key_id(text: str) -> str | None:
    """The master key id a sealed text's data key is wrapped under (None: plaintext)."""
    return _parts(text)[0] if text.startswith(TEXT_PREFIX) else None


class Sealer:
    def __init__(self, keys: KeyProvider) -> None:
        self.keys = keys

    def seal(self, data: bytes) -> bytes:
        return envelope.seal_bytes(self.keys, data)

    def open(self, blob: bytes) -> bytes:
        return envelope.open_bytes(self.keys, blob)

    # the compact text form, for short secrets in a database column (the 512-byte header
    # slot would not fit): pvenc:<key id>:<wrapped data key>:<nonce|ciphertext|tag>, base64url
    def seal_text(self, text: str) -> str:
        plain_key, wrapped, key_id = self.keys.generate_data_key()
        nonce = os.urandom(12)
        sealed = nonce + AESGCM(plain_key).encrypt(nonce, text.encode(), _TEXT_AAD)
        return f"{TEXT_PREFIX}{key_id}:{_b64(wrapped)}:{_b64(sealed)}"

    def open_text(self, text: str) -> str:
        """A sealed text's plaintext; a text that is not sealed is returned as it is."""
        if not text.startswith(TEXT_PREFIX):
            return text
        key_id, wrapped, sealed = _parts(text)
        aead = AESGCM(self.keys.unwrap(wrapped, key_id))
        return aead.decrypt(sealed[:12], sealed[12:], _TEXT_AAD).decode()

    def rewrap_text(self, text: str) -> str:
        """A sealed text with its data key wrapped under the current master (a plaintext
        one gets sealed); the ciphertext stays as it is."""
        if not text.startswith(TEXT_PREFIX):
            return self.seal_text(text)
        key_id, wrapped, sealed = _parts(text)
        new_wrapped, new_id = self.keys.rewrap(wrapped, key_id)
        return f"{TEXT_PREFIX}{new_id}:{_b64(new_wrapped)}:{_b64(sealed)}"

    def write_file(self, path: Path, data: bytes, *, exclusive: bool = False) -> None:
        """Sealed, 0600, atomically (a new file renamed into place; `exclusive`: fail with
        FileExistsError when the file exists)."""
        sealed = self.seal(data)
        if exclusive:
            if not create_exclusive(path, sealed):
                raise FileExistsError(path)
            return
        write_private(path, sealed)

    def read_file(self, path: Path) -> bytes:
        return self.open(path.read_bytes())

"""Protection of the BSN: encrypted at rest (Fernet, key derived from the secret) and looked up by a keyed
hash.

The BSN never leaves the service: no response, log line, export to employers or explanation carries it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"werkmatch", info=purpose).derive(secret.encode())


@lru_cache(maxsize=8)
def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(secret, b"bsn-encryption")))


@lru_cache(maxsize=8)
def _hash_key(secret: str) -> bytes:
    return _derive(secret, b"bsn-lookup")


def encrypt_bsn(bsn: str, *, secret: str) -> bytes:
    return _fernet(secret).encrypt(bsn.encode("ascii"))


def decrypt_bsn(token: bytes, *, secret: str) -> str:
    return _fernet(secret).decrypt(token).decode("ascii")


def bsn_lookup_hash(bsn: str, *, secret: str) -> str:
    """A keyed hash (HMAC-SHA256) so a BSN can be found without storing it in the clear or a guessable
    hash."""
    return hmac.new(_hash_key(secret), bsn.encode("ascii"), hashlib.sha256).hexdigest()

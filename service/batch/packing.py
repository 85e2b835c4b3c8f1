"""How a subject's stored top-K is packed into one ``match_ranking`` row, and unpacked again.

Three binary columns, best first, little-endian and fixed-width, so each decodes with one
``numpy.frombuffer``:

- ``other_ids``: 16 bytes per entry, the other side's id as ``uuid.UUID.bytes``;
- ``scores``: int16 per entry, the score in hundredths (0..10000, exactly the engine's integer score);
- ``distances``: float64 per entry, the distance in km (exactly the value the engine computed).

Nothing is rounded on the way in, so unpacking gives back exactly what one row per rank would have stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_SCORE = np.dtype("<i2")
_DISTANCE = np.dtype("<f8")
_ID = 16


@dataclass(frozen=True, slots=True)
class PackedRanking:
    """One subject's ranking as stored: (direction, subject id as canonical string, size, three blobs)."""

    direction: str
    subject_id: str
    size: int
    other_ids: bytes
    scores: bytes
    distances: bytes


def uuid_bytes(ids: npt.NDArray[np.object_] | list[str]) -> npt.NDArray[np.uint8]:
    """Canonical UUID strings → an (n, 16) uint8 array of their ``uuid.UUID.bytes``."""
    joined = "".join(ids).replace("-", "")
    return np.frombuffer(bytes.fromhex(joined), dtype=np.uint8).reshape(-1, _ID)


def pack(
    direction: str,
    subject_ids: list[str],
    counts: npt.NDArray[np.int64],
    other_bytes: npt.NDArray[np.uint8],
    scores: npt.NDArray[np.integer],
    distances: npt.NDArray[np.floating],
) -> list[PackedRanking]:
    """Pack consecutive slices: subject ``i`` owns the next ``counts[i]`` entries of the flat arrays."""
    if scores.size and (int(scores.min()) < 0 or int(scores.max()) > 10_000):
        raise ValueError("scores must be hundredths in 0..10000")
    ids = np.ascontiguousarray(other_bytes, dtype=np.uint8).tobytes()
    score_bytes = np.ascontiguousarray(scores, dtype=_SCORE).tobytes()
    distance_bytes = np.ascontiguousarray(distances, dtype=_DISTANCE).tobytes()
    packed: list[PackedRanking] = []
    start = 0
    for subject, count in zip(subject_ids, counts.tolist(), strict=True):
        stop = start + count
        packed.append(
            PackedRanking(
                direction=direction,
                subject_id=subject,
                size=count,
                other_ids=ids[start * _ID : stop * _ID],
                scores=score_bytes[start * 2 : stop * 2],
                distances=distance_bytes[start * 8 : stop * 8],
            )
        )
        start = stop
    return packed


@dataclass(frozen=True, slots=True)
class Unpacked:
    """A stored ranking decoded: ids (canonical strings), scores (hundredths) and distances, best first."""

    other_ids: list[str]
    scores: npt.NDArray[np.int16]
    distances: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.other_ids)

    def entries(self) -> Iterator[tuple[int, str, float, float]]:
        """(rank from 1, other id, score 0–100, distance km) per entry."""
        for rank, (other, score, km) in enumerate(
            zip(self.other_ids, self.scores.tolist(), self.distances.tolist(), strict=True), start=1
        ):
            yield rank, other, score / 100, km


def unpack(size: int, other_ids: bytes, scores: bytes, distances: bytes) -> Unpacked:
    """Decode one stored ranking; raises ``ValueError`` when the blobs do not hold ``size`` entries."""
    if len(other_ids) != size * _ID or len(scores) != size * 2 or len(distances) != size * 8:
        raise ValueError(f"stored ranking is corrupt: {size} entries expected")
    ids = bytes(other_ids)
    return Unpacked(
        other_ids=[str(uuid.UUID(bytes=ids[i : i + _ID])) for i in range(0, len(ids), _ID)],
        scores=np.frombuffer(bytes(scores), dtype=_SCORE).astype(np.int16),
        distances=np.frombuffer(bytes(distances), dtype=_DISTANCE).astype(np.float64),
    )


def without(unpacked: Unpacked, other_id: str) -> Unpacked:
    """The ranking with every entry of ``other_id`` removed (later entries move up one rank)."""
    keep = np.asarray([other != other_id for other in unpacked.other_ids], dtype=bool)
    return Unpacked(
        other_ids=[other for other, kept in zip(unpacked.other_ids, keep.tolist(), strict=True) if kept],
        scores=unpacked.scores[keep],
        distances=unpacked.distances[keep],
    )


def repack(unpacked: Unpacked) -> tuple[int, bytes, bytes, bytes]:
    """(size, other_ids, scores, distances) blobs of a decoded ranking."""
    ids = uuid_bytes(unpacked.other_ids) if unpacked.other_ids else np.zeros((0, _ID), dtype=np.uint8)
    return (
        len(unpacked),
        ids.tobytes(),
        np.ascontiguousarray(unpacked.scores, dtype=_SCORE).tobytes(),
        np.ascontiguousarray(unpacked.distances, dtype=_DISTANCE).tobytes(),
    )

"""Text normalisation shared by the taxonomy indexes (private to ``matching``).

Occupation and skill labels arrive in Dutch, German or English, with gendered German forms
("Lagerist/Lageristin", "Kaufmann/Kauffrau", "(m/w/d)"), hyphenation and compounds
("magazijnmedewerker" vs "medewerker magazijn"). Everything here is pure and deterministic so that
the same label always normalises to the same key.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import chain

# Gender markers that job ads add to titles; they carry no meaning for matching.
_GENDER_MARKER = re.compile(
    r"\(\s*(?:[mwfvdxi]\s*[/|,.]\s*)+[mwfvdxi]\s*\)"
    r"|\b(?:[mwfvdx]\s*/\s*){1,3}[mwfvdx]\b"
    r"|\(\s*all genders?\s*\)",
    re.IGNORECASE,
)
# German gender-inclusive spellings: "Mitarbeiter*in", "Mitarbeiter:innen", "MitarbeiterIn", "Mitarbeiter_in".
_GENDER_STAR = re.compile(r"(?<=[a-zäöüß])(?:[*:_]in(?:nen)?|In(?:nen)?)\b")
_NON_WORD = re.compile(r"[^0-9a-z+#]+")
_MAY_HAVE_GENDER_STAR = re.compile(r"[*:_]in|In\b|Innen\b")
_COMBINING = re.compile("[\u0300-\u036f]")


def fold(text: str) -> str:
    """Lower-case, Unicode-normalise and strip diacritics ("Präzisions" → "prazisions", "ß" → "ss").

    Characters without an ASCII decomposition (other scripts, symbols) become "?", which
    :func:`normalise` treats as a separator.
    """
    if text.isascii():
        return text.lower()
    text = text.replace("\u00ad", "").replace("ß", "ss").replace("ẞ", "ss")  # soft hyphen joins
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return text.encode("ascii", "replace").decode("ascii").lower()


def normalise(label: str) -> str:
    """Canonical form of a label: folded, gender markers removed, punctuation → single spaces.

    This is the key for exact lookups and the ``text:`` concept of a label that matches nothing.
    """
    text = _GENDER_STAR.sub("", label) if _MAY_HAVE_GENDER_STAR.search(label) else label
    if "/" in text or "(" in text:
        text = _GENDER_MARKER.sub(" ", text)
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


def normalise_text(text: str) -> str:
    """:func:`normalise` for long free text (descriptions): folding and punctuation only, faster."""
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


def _same_word_other_gender(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are one (German) word in two genders or inflections."""
    a, b = fold(a).strip(",;.()"), fold(b).strip(",;.()")
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if long_.startswith(short) and long_[len(short) :] in {"in", "innen", "r", "n", "e", "er"}:
        return True
    if a.endswith("mann") and b == a[:-4] + "frau" or b.endswith("mann") and a == b[:-4] + "frau":
        return True
    return len(a) > 4 and stem(a) == stem(b)


def _merge_gender_pair(left: str, right: str) -> str | None:
    """Merge "Ingenieur" + "Ingenieurin für Holztechnik" into "Ingenieur für Holztechnik".

    The right segment must start with the last j words of the left segment in another gender.
    """
    lw, rw = left.split(), right.split()
    for j in range(min(len(lw), len(rw)), 0, -1):
        if all(_same_word_other_gender(lw[len(lw) - j + i], rw[i]) for i in range(j)):
            return " ".join(lw + rw[j:])
    return None


def title_forms(label: str) -> list[str]:
    """The distinct titles in a gendered label, masculine/first form first.

    German titles come as "Ingenieur/Ingenieurin für Holztechnik", "Lagerist/-in", "Verkäufer/in",
    ESCO preferred labels as "Technischer Leiter/Technische Leiterin". Gender pairs are merged into one
    title ("Ingenieur für Holztechnik"); slashes that separate genuinely different titles ("Host/Hostess",
    "Chauffeur/Verhuizer") give one title each.
    """
    if "/" not in label:
        return [label]
    segments = [s.strip() for s in label.split("/") if s.strip()]
    if len(segments) < 2:
        return [label.replace("/", " ").strip()]
    out: list[str] = []
    current = segments[0]
    for seg in segments[1:]:
        low = seg.lower()
        if seg.startswith("-") or low in {"in", "innen", "frau", "e", "in)", "innen)"}:
            continue  # "Lagerist/-in": the feminine ending of the current title
        merged = _merge_gender_pair(current, seg)
        if merged is not None:
            current = merged
        else:
            out.append(current)
            current = seg
    out.append(current)
    return list(dict.fromkeys(out))


def gender_variants(label: str) -> list[str]:
    """The label and its gendered titles (see :func:`title_forms`), for exact look-ups and indexing."""
    return list(dict.fromkeys([*title_forms(label), label]))


# Function words, and the structural words of German qualification titles ("Fachrichtung X",
# "Schwerpunkt Y"), carry no occupation: they are ignored by the rankers (not by exact look-ups).
STOPWORDS = frozenset(
    """
    de het een van en voor in op bij met aan of te der die das den dem des ein eine einer eines und fur im
    in am an auf mit von vom zum zur bei oder als the a an of and for in on at with to
    fachrichtung fachrichtungen schwerpunkt schwerpunkten teilbereich fachbereich ohne
    """.split()
)


def words(normalised: str) -> list[str]:
    """Tokens of an already normalised label."""
    return [w for w in normalised.split(" ") if w]


# Light suffix stripping for Dutch, German and English. Both indexed labels and queries go through the
# same function, so an imperfect stem is harmless as long as it is consistent; it merges
# "technischer/technische", "medewerkers/medewerker", "operators/operator".
_SUFFIXES = ("innen", "ern", "en", "er", "es", "em", "e", "s", "n")


def stem(word: str) -> str:
    """Crude inflection stripping (keeps at least four characters of the word)."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


# Feminine → masculine forms that are not a plain "-in" suffix.
_FEMININE_HEADS = (("frauen", "leute"), ("frau", "mann"))


def masculine(word: str, vocabulary: Mapping[str, int] | set[str] | frozenset[str]) -> str:
    """Map a feminine German job word to its masculine form when that form is a known word.

    "lageristin" → "lagerist", "kauffrau" → "kaufmann", "pflegerinnen" → "pfleger". Guarded by the
    vocabulary so that words that merely end in "in" ("medizin", "termin") stay as they are.
    """
    if word.endswith("innen") and word[:-5] in vocabulary:
        return word[:-5]
    if word.endswith("in") and len(word) > 5 and word[:-2] in vocabulary:
        return word[:-2]
    for fem, masc in _FEMININE_HEADS:
        if word.endswith(fem) and len(word) > len(fem) + 2:
            candidate = word[: -len(fem)] + masc
            if candidate in vocabulary:
                return candidate
    return word


# Linking elements between compound parts ("arbeit-s-vermittler", "boek-en-kast", "hond-e-hok").
_LINKERS = ("", "s", "en", "e", "n", "es", "er")


class CompoundSplitter:
    """Split Dutch/German compounds into known words (Koehn & Knight, 2003).

    A split is kept when the geometric mean of the parts' corpus frequencies beats the frequency of the
    unsplit word, so frequent whole words ("medewerker") stay whole while rare compounds
    ("magazijnmedewerker") become "magazijn" + "medewerker". The frequencies come from the shipped
    labels and descriptions only.
    """

    def __init__(self, frequencies: Mapping[str, int], *, min_part: int = 4) -> None:
        self._freq = frequencies
        self._min_part = min_part
        self._cache: dict[str, tuple[str, ...]] = {}

    def split(self, word: str, *, remember: bool = True) -> tuple[str, ...]:
        """Parts of ``word`` (the word itself when no better split exists).

        ``remember=False`` leaves the cache alone (for query words, so the cache cannot grow without bound).
        """
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        parts = self._split(word, depth=0)
        if remember:
            self._cache[word] = parts
        return parts

    def _split(self, word: str, *, depth: int) -> tuple[str, ...]:
        n = len(word)
        whole = self._freq.get(word, 0)
        if n < 2 * self._min_part or depth > 2:
            return (word,)
        best: tuple[str, ...] = (word,)
        best_score = float(whole)
        for i in range(self._min_part, n - self._min_part + 1):
            head_raw, tail = word[:i], word[i:]
            tail_freq = self._freq.get(tail, 0)
            if tail_freq == 0:
                continue
            for linker in _LINKERS:
                if linker and not head_raw.endswith(linker):
                    continue
                head = head_raw[: len(head_raw) - len(linker)] if linker else head_raw
                if len(head) < self._min_part:
                    continue
                head_parts: tuple[str, ...]
                if self._freq.get(head, 0) > 0:
                    head_parts = (head,)
                else:
                    head_parts = self._split(head, depth=depth + 1)
                    if len(head_parts) == 1:
                        continue
                parts = (*head_parts, tail)
                freqs = [self._freq.get(p, 0) for p in parts]
                if min(freqs) == 0:
                    continue
                score = math.exp(sum(math.log(f) for f in freqs) / len(freqs))
                if score > best_score:
                    best, best_score = parts, score
        return best


def token_frequencies(texts: Iterable[str]) -> dict[str, int]:
    """Word frequencies over normalised texts (for compound splitting)."""
    counts = Counter(chain.from_iterable(text.split() for text in texts))
    return {w: c for w, c in counts.items() if len(w) >= 3 and not w.isdigit()}

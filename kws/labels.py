"""Labels: the one normalisation every name goes through before it becomes a
manifest label (folder names on import, keywords on synth and record, rows
read from a manifest), the check that a manifest's labels meet the keywords
they look like, and the classes of a model: class 0 is ``_silence_``, class 1
``_unknown_``, keywords follow from class 2 in kws.toml's order; labels that
start with ``_`` are never reported as detections.

``normal_label`` never fails: ``Yes`` -> ``yes``, ``hey robot`` and
``Hey-Robot`` -> ``hey_robot``; ``label_for`` also checks that a keyword is
made of letters, digits and apostrophes.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from kws.errors import KwsError, UsageError

SILENCE = "_silence_"
UNKNOWN = "_unknown_"
RESERVED = (SILENCE, UNKNOWN)
SILENCE_CLASS = 0
UNKNOWN_CLASS = 1
FIRST_KEYWORD_CLASS = 2

_WORD = re.compile(r"^[a-z0-9']+(?: [a-z0-9']+)*$")
_SEPARATORS = re.compile(r"[^\w']+|_+")


def normal_label(text: str) -> str:
    """The manifest label of a folder name or word: case-folded, words joined by '_'."""
    folded = unicodedata.normalize("NFKC", text).strip().casefold()
    if folded in RESERVED:
        return folded
    return "_".join(part for part in _SEPARATORS.split(folded) if part) or folded


def label_for(text: str) -> str:
    """The label (and folder name) of a keyword: 'Hey  Robot' -> 'hey_robot'."""
    words = " ".join(text.lower().split())
    if not _WORD.match(words):
        raise UsageError(f"{text!r}: a keyword must be letters, digits and apostrophes (spaces between words)")
    return normal_label(words)


def _compact(label: str) -> str:
    return re.sub(r"[\W_]+", "", label)


def lookalikes(labels: Iterable[str], keywords: Iterable[str]) -> dict[str, str]:
    """Labels that spell a keyword label with other separators ('heyrobot' for
    'hey_robot'): {label: keyword label}. Training would count them as _unknown_."""
    by_compact = {_compact(k): k for k in keywords}
    return {label: by_compact[_compact(label)] for label in set(labels)
            if label not in by_compact.values() and _compact(label) in by_compact}


def check_keyword_labels(labels: Iterable[str], keywords: Iterable[str], manifest: object) -> None:
    """Refuse (one-line KwsError) a manifest whose labels look like a keyword
    but do not match it: their clips would be trained as ``_unknown_``."""
    counts = Counter(labels)
    found = lookalikes(counts, keywords)
    if found:
        listed = ", ".join(f"'{label}' ({counts[label]} clips) looks like keyword '{word}'"
                           for label, word in sorted(found.items()))
        raise KwsError(f"{manifest}: {listed}; rename the folder to the keyword and run `kws data import` "
                       "again (or fix the label column), else those clips train as _unknown_")


def model_labels(keyword_labels: Sequence[str]) -> list[str]:
    """The output order of a model for these keywords (manifest labels)."""
    return [SILENCE, UNKNOWN, *keyword_labels]


def keyword_labels(labels: Sequence[str]) -> list[str]:
    """The keywords' labels of a model's ``labels``."""
    return list(labels[FIRST_KEYWORD_CLASS:])


def keyword_words(labels: Sequence[str]) -> list[str]:
    """The keywords as a user writes them ('hey_robot' -> 'hey robot')."""
    return [label.replace("_", " ") for label in keyword_labels(labels)]


def keyword_mask(labels: Sequence[str]) -> int:
    """Bit i set when class i may be reported (its label does not start with '_')."""
    return sum(1 << i for i, name in enumerate(labels) if not name.startswith("_"))

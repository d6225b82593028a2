"""Non-keyword speech for custom keywords: TTS negatives the model learns to ignore.

A model trained on keyword clips and silence alone calls any speech its
keyword.  ``phrases`` lists what to synthesize as ``_unknown_``: a built-in
list of common words and short phrases, plus near-misses made from each
keyword (its words alone, its first syllables, those with other first
consonants, another first word: for "hey robot": "hey", "robot", "hey rob",
"a robot", "hey bob", ...).  Whole words with one consonant changed ("hey
bobot") are left out: the model then learnt to reject the keyword itself
(18% of held-out TTS "hey robot" clips found in the bench).  Nothing that contains a keyword, and nothing espeak-ng
pronounces exactly like one, is kept.  ``shortfall`` says how many negatives
a manifest's training split lacks; ``synthesize`` renders them with every
installed engine and voice into ``synth/negatives/`` beside the manifest,
where later runs find them (and their cached features) again.
"""

from __future__ import annotations

import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from kws.labels import SILENCE, UNKNOWN, label_for
from kws.data.manifest import Clip, read_manifest
from kws.data.batch import Batch, save
from kws.data.synth import SynthStats
from kws.data.synth import synthesize as synthesize_words
from kws.data.tts import bare_phonemes, run_tool
from kws.errors import KwsError

FOLDER = "negatives"             # below the synth folder: never mixed with `--unknown-words` clips
MIN_RATIO = 1.0                  # training _unknown_ clips per keyword clip below which negatives are added
TARGET_RATIO = 2.0               # negatives synthesized per keyword clip
TRAIN_SHARE = 0.8                # of TTS voices, the speaker hash puts this share in train
MIN_PER_PHRASE = 3
NEAR_MISS_WEIGHT = 2             # near-misses get this many times the clips of a common phrase

COMMON = (
    "yes", "no", "okay", "hello", "hi", "thank you", "please", "sorry", "good morning", "good night",
    "what time is it", "turn on the light", "turn it off", "stop", "go", "wait", "come here", "let's go",
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twenty",
    "up", "down", "left", "right", "on", "off", "open", "close", "start", "next", "back", "again",
    "water", "coffee", "music", "weather", "today", "tomorrow", "house", "door", "window", "phone", "table",
    "cat", "dog", "bird", "tree", "car", "happy", "maybe", "never", "always", "really", "later",
    "how are you", "i don't know", "see you later", "what is that", "nice to meet you", "where are you",
    "the", "and", "about", "people", "because", "little", "number", "evening", "family", "money",
    "story", "problem", "yellow", "orange", "banana", "computer", "kitchen", "hey", "oh no", "all right",
)
_VOWELS = "aeiouy"
_ONSETS = ("b", "d", "m", "s", "t", "p")
_FIRST_WORDS = ("a", "the", "my")


def _onset(word: str) -> str:
    return re.match(rf"^[^{_VOWELS}]*", word).group(0)


def _head(word: str) -> str:
    """The first syllable, roughly: 'robot' -> 'rob', 'marvin' -> 'mar'."""
    return re.match(rf"^[^{_VOWELS}]*[{_VOWELS}]+[^{_VOWELS}]?", word).group(0) if re.search(
        f"[{_VOWELS}]", word) else word


def _swaps(word: str) -> list[str]:
    """``word`` with two other first consonants: 'rob' -> 'bob', 'dob'."""
    onset = _onset(word)
    return [o + word[len(onset):] for o in _ONSETS if o != onset][:2]


def near_misses(keyword: str) -> list[str]:
    """Phrases that sound like ``keyword`` but are not it (before the safety filter)."""
    words = keyword.split()
    found: list[str] = []
    if len(words) > 1:
        found += words + [" ".join(reversed(words))]
        found += [" ".join([first, *words[1:]]) for first in _FIRST_WORDS]
    for i, word in enumerate(words):
        head = _head(word)
        if head == word:  # a one-syllable word: other consonants would make the keyword's twin
            continue
        for variant in [head, *_swaps(head)]:
            found.append(" ".join([*words[:i], variant, *words[i + 1:]]))
            if len(words) > 1 and variant == head:
                found.append(head)
    return found


def _phonemes(text: str) -> str | None:
    """espeak-ng's phonemes without stress marks (None when espeak-ng is missing)."""
    if shutil.which("espeak-ng") is None:
        return None
    try:
        return bare_phonemes(run_tool(["espeak-ng", "-q", "-x", text]))
    except KwsError:
        return None


def phrases(keywords: Sequence[str]) -> tuple[list[str], list[str]]:
    """(near-misses, common phrases) to synthesize as ``_unknown_`` for ``keywords``;
    none contains a keyword or is pronounced like one."""
    keywords = [" ".join(k.lower().split()) for k in keywords]
    sounds = {_phonemes(k) for k in keywords} - {None}

    def safe(text: str) -> bool:
        padded = f" {text} "
        return not any(f" {k} " in padded for k in keywords)

    near = list(dict.fromkeys(p for k in keywords for p in near_misses(k) if safe(p)))
    near = [p for p in near if _phonemes(p) not in sounds]
    common = [p for p in COMMON if safe(p) and p not in near]
    return near, common


def _ours(clip: Clip) -> bool:
    return f"/{FOLDER}/{UNKNOWN}/" in "/" + Path(clip.path).as_posix()


def shortfall(clips: Sequence[Clip], keywords: Sequence[str]) -> int:
    """How many negatives to synthesize: 0 when the training split has ``MIN_RATIO``
    non-keyword clips per keyword clip (mean over keywords), else enough for
    ``TARGET_RATIO`` of them in training (``TRAIN_SHARE`` of TTS voices land there)."""
    labels = {label_for(k) for k in keywords}
    train = [c for c in clips if c.split == "train"]
    mean = sum(c.label in labels for c in train) / max(len(labels), 1)
    others = [c for c in train if c.label not in labels and c.label != SILENCE]
    if mean == 0 or len(others) >= MIN_RATIO * mean:
        return 0
    theirs = sum(not _ours(c) for c in others)  # earlier negatives are replaced, not added to
    return math.ceil((TARGET_RATIO * mean - theirs) / TRAIN_SHARE)


def per_phrase(total: int, near: int, common: int) -> tuple[int, int]:
    """Clips per near-miss and per common phrase so that about ``total`` are made."""
    unit = max(1, math.ceil(total / max(NEAR_MISS_WEIGHT * near + common, 1)))
    return max(MIN_PER_PHRASE, NEAR_MISS_WEIGHT * unit), max(MIN_PER_PHRASE, unit)


def synthesize(batch: Batch, synth_dir: Path, keywords: Sequence[str], total: int, seed: int = 0, *,
               jobs: int | None = None) -> tuple[SynthStats, list[str], list[str]]:
    """Render about ``total`` negatives for ``keywords`` into ``synth_dir/negatives``
    and add them to ``batch`` as ``_unknown_``; (stats, near-misses, common phrases)."""
    near, common = phrases(keywords)
    n_near, n_common = per_phrase(total, len(near), len(common))
    counts = {**{p: n_near for p in near}, **{p: n_common for p in common}}
    stats = synthesize_words(batch, synth_dir / FOLDER, [], n_common, seed, unknown_words=list(counts),
                             unknown_n=counts, jobs=jobs)
    return stats, near, common


@dataclass
class Added:
    """Negatives ``top_up`` synthesized into the manifest."""

    clips: int
    phrases: int
    near_misses: list[str]
    identities: int


def top_up(manifest: Path, keywords: Sequence[str], *, seed: int = 0, jobs: int | None = None) -> Added | None:
    """Synthesize negatives into ``manifest`` when its training split lacks
    non-keyword speech (None when it has enough)."""
    total = shortfall(read_manifest(manifest), keywords)
    if not total:
        return None
    batch = Batch(manifest)
    stats, near, common = synthesize(batch, manifest.parent / "synth", keywords, total, seed, jobs=jobs)
    save(batch)
    return Added(stats.clips, len(near) + len(common), near, stats.identities)

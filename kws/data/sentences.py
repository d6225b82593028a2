"""Keyword-free conversational sentences spoken by the offline TTS engines.

``sentences`` writes varied English (statements, questions, commands, 3 to
15 words) from templates and a few hundred everyday words, drawn from a seed,
and drops every sentence that contains a keyword after kws.labels'
normalisation ("Hey, Robot!" holds "hey robot") or, when espeak-ng is there,
a run of words that espeak-ng pronounces like one ("know" for "no").
``sentence_clips`` speaks them with the TTS voices of one split (the voice
split rule of kws.data.synth: ``split_for`` on ``engine:voice``, so "train"
and "test" voices never meet), post-processed like synth clips (speed and
pitch in the engine, pitch shift and tempo by sox), on all cores, and keeps
each rendering in the kws cache keyed by text, engine, voice and parameters.
Clips are 16 kHz mono int16 of the sentence's length, peak at -1 dBFS.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from kws.audio.io import load_wav, write_wav
from kws.cache import cache_dir
from kws.data.manifest import split_for
from kws.data.signal import voiced_span
from kws.data.synth import postprocess
from kws.data.tts import ENGINES, Prosody, bare_phonemes, catalogue, run_tool
from kws.errors import KwsError, UsageError
from kws.labels import label_for, normal_label
from kws.progress import bar

SPLITS = ("train", "val", "test")
MIN_WORDS, MAX_WORDS = 3, 15
PEAK = 32767 * 10 ** (-1 / 20)
RENDER_VERSION = 1  # bump when rendering changes: cached clips are keyed by it

_WORDS = {
    "person": ("anna", "ben", "carla", "david", "emma", "frank", "grace", "henry", "julia", "kevin", "laura",
               "mike", "nina", "oscar", "paul", "rachel", "sam", "tina", "victor", "william", "my sister",
               "my brother", "the teacher", "our neighbour", "your friend", "the doctor", "grandma",
               "my boss", "the baker", "uncle tom"),
    "subject": ("i", "we", "they", "you"),
    "thing": ("book", "cup", "chair", "lamp", "phone", "key", "bag", "jacket", "bottle", "plate", "spoon",
              "towel", "blanket", "pillow", "box", "letter", "ticket", "umbrella", "wallet", "camera",
              "clock", "picture", "map", "bike", "ball", "pen", "pencil", "shirt", "hat", "glass",
              "bowl", "knife", "candle", "basket", "mirror", "sofa", "laptop", "charger", "notebook", "scarf",
              "kettle", "parcel", "guitar", "ladder", "bucket", "envelope", "newspaper", "sweater", "suitcase"),
    "food": ("bread", "cheese", "soup", "rice", "pasta", "salad", "apples", "tea", "milk", "juice", "pizza",
             "cake", "eggs", "butter", "honey", "chocolate", "sandwiches", "cookies", "potatoes", "carrots",
             "tomatoes", "grapes", "lemons", "pancakes", "noodles", "beans", "strawberries", "fish"),
    "place": ("kitchen", "garden", "office", "library", "station", "market", "bakery", "park", "beach",
              "hospital", "school", "museum", "garage", "bathroom", "bedroom", "hallway", "basement", "city",
              "village", "restaurant", "cinema", "airport", "supermarket", "pharmacy", "post office",
              "swimming pool", "car park", "bus stop", "playground", "hotel"),
    "adj": ("red", "blue", "green", "small", "big", "old", "new", "warm", "cold", "heavy", "clean", "dirty",
            "quiet", "noisy", "funny", "strange", "expensive", "cheap", "beautiful", "empty", "full", "soft",
            "wooden", "broken", "tiny", "huge", "bright", "dark", "fresh", "sweet", "comfortable", "busy",
            "lovely", "simple", "useful", "purple", "shiny", "ugly", "pretty", "dusty"),
    # (base, past) of verbs that take a thing
    "verb": (("bring", "brought"), ("find", "found"), ("carry", "carried"), ("wash", "washed"),
             ("fix", "fixed"), ("buy", "bought"), ("sell", "sold"), ("borrow", "borrowed"),
             ("paint", "painted"), ("clean", "cleaned"), ("move", "moved"), ("check", "checked"),
             ("fold", "folded"), ("pack", "packed"), ("hide", "hid"), ("keep", "kept"), ("share", "shared"),
             ("fetch", "fetched"), ("drop", "dropped"), ("lose", "lost"), ("return", "returned"),
             ("wrap", "wrapped"), ("show", "showed"), ("need", "needed")),
    # (base, -ing) of verbs that stand alone
    "act": (("walk", "walking"), ("sleep", "sleeping"), ("swim", "swimming"), ("dance", "dancing"),
            ("sing", "singing"), ("read", "reading"), ("wait", "waiting"), ("travel", "travelling"),
            ("laugh", "laughing"), ("work", "working"), ("study", "studying"), ("relax", "relaxing"),
            ("rest", "resting"), ("play", "playing"), ("cook", "cooking"), ("jog", "jogging"),
            ("write", "writing"), ("shop", "shopping"), ("knit", "knitting"), ("garden", "gardening")),
    "eat": ("eat", "cook", "make", "want", "like", "order", "share", "bake", "need"),
    "time": ("today", "tomorrow", "yesterday", "tonight", "this morning", "this afternoon", "last week",
             "next month", "next monday", "last friday", "at noon", "after lunch", "before dinner", "every day",
             "in the evening", "soon", "later", "at the weekend", "in the summer", "last winter",
             "this year", "at midnight", "after school", "in a minute"),
    "how": ("quickly", "slowly", "carefully", "quietly", "happily", "together", "again", "first", "early"),
    "feel": ("tired", "hungry", "happy", "worried", "bored", "excited", "cold", "busy", "late", "ready"),
}
_STATEMENTS = (
    "{person} {verb.1} the {adj} {thing} {time}.",
    "{subject} {eat} {food} {time}.",
    "the {thing} in the {place} is {adj}.",
    "{person} said the {place} was {adj} {time}.",
    "{subject} often enjoy {act.1} {time}.",
    "i think {person} forgot the {thing} at the {place}.",
    "there is a {adj} {thing} next to the {thing}.",
    "it was very {adj} in the {place} {time}.",
    "{person} likes {food} with {food}.",
    "i don't know where the {thing} is.",
    "{person} was {feel} after {act.1} all day.",
    "we met {person} near the {place} {time}.",
    "the {place} closes early {time}.",
    "{person} can {act.0} {how} for hours.",
    "my {thing} is much older than your {thing}.",
)
_QUESTIONS = (
    "did you {verb.0} the {thing} {time}?",
    "where is the {adj} {thing}?",
    "can we {act.0} at the {place} {time}?",
    "what did {person} {verb.0} at the {place}?",
    "why is the {thing} so {adj}?",
    "have you seen my {adj} {thing}?",
    "how long does it take to get to the {place}?",
    "would you like some {food}?",
    "when does {person} usually {act.0}?",
    "are you {feel}?",
    "is the {place} far from here?",
    "who wants {food} {time}?",
    "do you remember the {adj} {thing} from the {place}?",
)
_COMMANDS = (
    "please {verb.0} the {thing}.",
    "{verb.0} the {adj} {thing} to the {place}.",
    "don't forget to {verb.0} the {thing} {time}.",
    "let's {act.0} {how} {time}.",
    "put the {thing} near the window.",
    "tell {person} to {verb.0} the {thing}.",
    "call {person} {time}.",
    "try to {act.0} {how}.",
    "take the {thing} to the {place} {time}, please.",
)
_TEMPLATES = _STATEMENTS + _QUESTIONS + _COMMANDS
_JOINS = ("and", "but", "because", "so")
_SLOT = re.compile(r"\{(\w+)(?:\.(\d))?\}")


def _fill(template: str, rng: np.random.Generator) -> str:
    def pick(match: re.Match) -> str:
        options = _WORDS[match.group(1)]
        word = options[int(rng.integers(len(options)))]
        return word[int(match.group(2))] if match.group(2) else word

    return _SLOT.sub(pick, template)


def _candidate(rng: np.random.Generator) -> str:
    """One sentence; a statement is sometimes followed by another one."""
    text = _fill(_TEMPLATES[int(rng.integers(len(_TEMPLATES)))], rng)
    if text.endswith(".") and rng.random() < 0.25:
        second = _fill(_STATEMENTS[int(rng.integers(len(_STATEMENTS)))], rng)
        text = f"{text[:-1]}, {_JOINS[int(rng.integers(len(_JOINS)))]} {second}"
    return text[0].upper() + text[1:]


def _tokens(text: str) -> list[str]:
    return [t for t in normal_label(text).split("_") if any(c.isalnum() for c in t)]


@functools.cache
def _sounds(words: tuple[str, ...]) -> dict[str, str]:
    """{word: espeak-ng's phonemes without stress marks} (one espeak-ng run); empty without espeak-ng."""
    if not words or shutil.which("espeak-ng") is None:
        return {}
    lines = run_tool(["espeak-ng", "-q", "-x", "\n".join(f"{w}." for w in words)]).splitlines()
    lines = [bare_phonemes(line) for line in lines if line.strip()]
    return dict(zip(words, lines)) if len(lines) == len(words) else {}


class _Filter:
    """Whether a sentence holds a keyword: its words, or words that sound like it."""

    def __init__(self, keywords: Sequence[str]) -> None:
        self.labels = [label_for(k) for k in keywords]
        self.size = max((len(label.split("_")) for label in self.labels), default=1)
        vocabulary = sorted({t for template in _TEMPLATES for t in _tokens(_SLOT.sub(" ", template))} |
                            {t for group in _WORDS.values() for entry in group
                             for word in (entry if isinstance(entry, tuple) else (entry,)) for t in _tokens(word)}
                            | set(_JOINS))
        spoken = [label.replace("_", " ") for label in self.labels]
        self.sound = _sounds(tuple(vocabulary))
        keyword_sounds = _sounds(tuple(spoken))
        self.keyword_sounds = set(keyword_sounds.values()) if self.sound else set()

    def holds_keyword(self, text: str) -> bool:
        padded = f"_{normal_label(text)}_"
        if any(f"_{label}_" in padded for label in self.labels):
            return True
        sounds = [self.sound.get(t, t) for t in _tokens(text)]
        return any("".join(sounds[i:i + n]) in self.keyword_sounds
                   for n in range(1, self.size + 1) for i in range(len(sounds) - n + 1))


def sentences(keywords: Sequence[str], count: int, seed: int, split: str = "test") -> list[str]:
    """``count`` different sentences of 3 to 15 words, none holding a keyword; each split
    draws its own texts (a model never trains on the sentences it is tested on)."""
    rng = np.random.default_rng([seed, 0x5E7, SPLITS.index(split)])
    keep = _Filter(keywords)
    found: dict[str, None] = {}
    for _ in range(max(100, 50 * count)):
        if len(found) >= count:
            break
        text = _candidate(rng)
        if MIN_WORDS <= len(_tokens(text)) <= MAX_WORDS and not keep.holds_keyword(text):
            found[text] = None
    if len(found) < count:
        raise KwsError(f"only {len(found)} of {count} sentences avoid the keywords {', '.join(keywords)}; "
                       "ask for fewer sentences")
    return list(found)


def voices(split: str) -> list[str]:
    """The TTS identities (``engine:voice``) that ``split_for`` puts in ``split``."""
    if split not in SPLITS:
        raise UsageError(f"split {split!r}: use one of {', '.join(SPLITS)}")
    found = [f"{engine}:{voice}" for engine, names in sorted(catalogue().items()) for voice in names
             if split_for(f"{engine}:{voice}") == split]
    if not found:
        raise KwsError(f"no TTS voice falls in the {split} split; install espeak-ng and flite (tools/setup.sh)")
    return found


@dataclass(frozen=True)
class Line:
    """One sentence as one voice speaks it; fully decided before rendering."""

    text: str
    speaker: str
    prosody: Prosody
    semitones: float
    tempo: float

    def key(self) -> str:
        facts = {**asdict(self), "version": RENDER_VERSION}
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class Spoken:
    """A rendered sentence: its text, voice, samples and whether they came from the cache."""

    text: str
    speaker: str
    samples: np.ndarray
    cached: bool


def plan(keywords: Sequence[str], count: int, seed: int, split: str = "test") -> list[Line]:
    """``count`` sentences with a voice of ``split`` and prosody each."""
    speakers = voices(split)
    lines = []
    for index, text in enumerate(sentences(keywords, count, seed, split)):
        rng = np.random.default_rng([seed, index, 0x701CE])
        lines.append(Line(text, speakers[int(rng.integers(len(speakers)))],
                          Prosody(speed=float(rng.uniform(0.85, 1.2)), pitch=float(rng.uniform(0.3, 0.7))),
                          semitones=float(rng.uniform(-2.0, 2.0)), tempo=float(rng.uniform(0.9, 1.1))))
    return lines


def render(line: Line, path: Path) -> str | None:
    """Speak ``line`` into ``path`` (voiced part, peak -1 dBFS); an error message instead of raising."""
    engine, voice = line.speaker.split(":", 1)
    try:
        with tempfile.TemporaryDirectory(prefix="kws-sentence-") as tmp:
            raw = Path(tmp) / "raw.wav"
            ENGINES[engine].render(line.text, voice, line.prosody, raw)
            audio = postprocess(raw, line.semitones, line.tempo) * 32768.0
        span = voiced_span(audio)
        if span is None:
            return f"{line.speaker} produced no audible speech for {line.text!r}"
        voiced = audio[span[0]:span[1]]
        write_wav(path, np.round(voiced * PEAK / max(float(np.abs(voiced).max()), 1.0)).astype(np.int16))
    except KwsError as err:
        return str(err)
    return None


def _render_into(task: tuple[Line, Path]) -> str | None:
    return render(*task)


def sentence_clips(keywords: Sequence[str], count: int, seed: int, *, split: str = "test",
                   cache: Path | None = None, jobs: int | None = None) -> list[Spoken]:
    """``count`` keyword-free sentences spoken by ``split``'s voices (rendered on ``jobs``
    processes unless ``cache``, default the kws cache's ``sentences`` folder, has them);
    KwsError when a rendering fails."""
    folder = cache or cache_dir("sentences")
    folder.mkdir(parents=True, exist_ok=True)
    lines = plan(keywords, count, seed, split)
    paths = [folder / f"{line.key()}.wav" for line in lines]
    todo = [(line, path) for line, path in zip(lines, paths) if not path.is_file()]
    if todo:
        with bar() as progress, ProcessPoolExecutor(jobs or os.cpu_count() or 1) as pool:
            task = progress.add_task("speak sentences", total=len(todo))
            for error in pool.map(_render_into, todo, chunksize=4):
                progress.advance(task)
                if error:
                    raise KwsError(f"sentences: {error}")
    fresh = {path for _, path in todo}
    return [Spoken(line.text, line.speaker, load_wav(path), path not in fresh) for line, path in zip(lines, paths)]

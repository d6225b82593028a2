"""The end-of-training verdict: is the model usable, and if not, why and what to do.

``judge`` reads what a run saw and measured (``Facts``) and returns one line
for the terminal and reports/train.md.  A model is not usable when its
training data had too few negatives (non-keyword speech) or a keyword had too
few voices/speakers, or when test accuracy or streaming false accepts are far
from what the user asked for (``--target-fa-per-hour``).  Caveats (numbers
measured on TTS voices only, TTS negatives added, labels without real
speakers) are said without changing the answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

MIN_NEGATIVE_RATIO = 0.5   # _unknown_ training examples per keyword example (mean over keywords)
MIN_VOICES = 8             # distinct speakers/TTS voices of each keyword in training
MIN_ACCURACY = 0.90        # int8 accuracy on the test clips
MIN_DETECTION = 0.5        # share of streamed keywords detected at the tuned threshold
FA_FACTOR = 3.0            # false accepts/hour may exceed the target by this factor (and by 2/h) at most


@dataclass
class Facts:
    """What the verdict looks at (all counts from the training split the model saw)."""

    keyword_clips: dict[str, int]       # label -> training examples
    keyword_voices: dict[str, int]      # label -> distinct speakers/voices
    negatives: int                      # _unknown_ training examples
    accuracy: float
    test_count: int
    test_is_real: bool
    target_fa_per_hour: float
    fa_per_hour: float | None = None
    detection_rate: float | None = None
    negatives_added: int = 0            # TTS negatives synthesized by this run
    negatives_off: bool = False         # --no-negatives
    tts_tested: list[str] = field(default_factory=list)  # keywords without real test speakers (TTS voices)
    tts_only: list[str] = field(default_factory=list)  # labels with no real-speaker training clips


@dataclass
class Verdict:
    usable: bool
    problems: list[str]                 # "<reason>; fix: <what to do>"
    notes: list[str]

    @property
    def line(self) -> str:
        head = "verdict: usable" if self.usable else "verdict: NOT usable: " + " | ".join(self.problems)
        return head + "".join(f" ({note})" for note in self.notes)

    def to_dict(self) -> dict:
        return {**asdict(self), "line": self.line}


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def judge(facts: Facts) -> Verdict:
    """The verdict for one training run."""
    problems: list[str] = []
    mean = sum(facts.keyword_clips.values()) / max(len(facts.keyword_clips), 1)
    if facts.negatives < MIN_NEGATIVE_RATIO * mean:
        fix = ("drop --no-negatives so kws adds TTS negatives, or import other words with "
               "`kws data import DIR` / `kws data synth --unknown-words ...`" if facts.negatives_off else
               "import other words with `kws data import DIR` or `kws data synth --words ... --negatives`")
        problems.append(f"too few negatives ({facts.negatives} non-keyword training clips for "
                        f"{mean:.0f} per keyword); fix: {fix}")
    few = {label: n for label, n in facts.keyword_voices.items() if n < MIN_VOICES}
    if few:
        names = ", ".join(f"{label} ({n})" for label, n in few.items())
        problems.append(f"too few voices/speakers in training for {names}, fewer than {MIN_VOICES}; fix: "
                        f"`kws data synth --words {','.join(label.replace('_', ' ') for label in few)} -n 300` "
                        "or record more people (`kws data record`)")
    if facts.accuracy < MIN_ACCURACY:
        problems.append(f"test accuracy {_pct(facts.accuracy)} on {facts.test_count} clips, below "
                        f"{_pct(MIN_ACCURACY)}; fix: more varied keyword and non-keyword data, or the full preset")
    if facts.fa_per_hour is not None:
        limit = max(FA_FACTOR * facts.target_fa_per_hour, facts.target_fa_per_hour + 2)
        if facts.fa_per_hour > limit:
            problems.append(f"{facts.fa_per_hour:.1f} false accepts/hour on the test stream, far above the "
                            f"target of {facts.target_fa_per_hour:g}; fix: more non-keyword speech "
                            "(`kws data import DIR` of other words) or real recordings of the keywords")
        if facts.detection_rate is not None and facts.detection_rate < MIN_DETECTION:
            problems.append(f"detects {_pct(facts.detection_rate)} of the streamed keywords; fix: more "
                            "keyword clips (real recordings help most), or a higher --target-fa-per-hour")
    notes = []
    if facts.negatives_added:
        notes.append(f"added {facts.negatives_added} TTS negatives; --no-negatives turns this off")
    if not facts.test_is_real:
        notes.append("measured on TTS voices only: `kws data import DIR --split test` measures real speech")
    elif facts.tts_tested:
        notes.append(f"{', '.join(facts.tts_tested)} measured on TTS voices only: record some real takes "
                     "(`kws data record`) to measure real speech")
    if facts.tts_only:
        notes.append(f"no real speakers in training for {', '.join(facts.tts_only)}")
    return Verdict(not problems, problems, notes)

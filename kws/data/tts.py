"""Offline text-to-speech engines found on this machine, and their voices.

espeak-ng (English voices x voice variants), flite (its voices), mbrola voices
through espeak-ng and pico (pico2wave) when installed.  Each engine turns
(text, voice, speed, pitch) into a wav file; ``catalogue`` lists every
engine:voice identity available here.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kws.errors import KwsError

MBROLA_DIR = Path("/usr/share/mbrola")
# espeak-ng variants that are effects rather than voices
SKIP_VARIANTS = {"fast_test", "Demonic", "Half-LifeAnnouncementSystem"}
# flite's awb_time only speaks clock times
SKIP_FLITE = {"awb_time"}


@dataclass(frozen=True)
class Prosody:
    """Engine-side randomization: speed factor (1 = normal) and pitch (0..1, 0.5 = normal)."""

    speed: float = 1.0
    pitch: float = 0.5


def run_tool(args: list[str]) -> str:
    """Stdout of a TTS tool; a missing or failing tool is a one-line KwsError."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise KwsError(f"{args[0]}: could not run ({err}); reinstall it (tools/setup.sh)") from None
    if done.returncode != 0:
        raise KwsError(f"{args[0]}: failed ({done.stderr.strip()[:200]}); reinstall it (tools/setup.sh)")
    return done.stdout


def _espeak_table(kind: str) -> list[list[str]]:
    """Rows of ``espeak-ng --voices=<kind>`` split on whitespace (header dropped)."""
    return [line.split() for line in run_tool(["espeak-ng", f"--voices={kind}"]).splitlines()[1:] if line.strip()]


class Espeak:
    """espeak-ng: every English voice with every variant."""

    name = "espeak-ng"

    def available(self) -> bool:
        return shutil.which("espeak-ng") is not None

    def voices(self) -> list[str]:
        english = sorted({row[1] for row in _espeak_table("en") if row[4].startswith("gmw/")})
        variants = sorted({row[4].split("/", 1)[1] for row in _espeak_table("variant")} - SKIP_VARIANTS)
        return [f"{voice}+{variant}" if variant else voice for voice in english for variant in ["", *variants]]

    def render(self, text: str, voice: str, prosody: Prosody, out: Path) -> None:
        run_tool(["espeak-ng", "-v", voice, "-s", str(round(175 * prosody.speed)),
              "-p", str(round(100 * prosody.pitch)), "-w", str(out), text])


class Mbrola(Espeak):
    """mbrola voices through espeak-ng, when the mbrola program and voice data are installed."""

    name = "mbrola"

    def available(self) -> bool:
        return super().available() and shutil.which("mbrola") is not None and bool(self.voices())

    def voices(self) -> list[str]:
        found = []
        for row in _espeak_table("en"):
            if row[4].startswith("mb/"):
                voice = row[4].split("/", 1)[1]  # mb-us1
                if (MBROLA_DIR / voice.split("-")[1]).exists():  # /usr/share/mbrola/us1
                    found.append(voice)
        return sorted(found)


class Flite:
    """flite: the voices ``flite -lv`` lists."""

    name = "flite"

    def available(self) -> bool:
        return shutil.which("flite") is not None

    def voices(self) -> list[str]:
        listed = run_tool(["flite", "-lv"]).split(":", 1)[-1].split()
        return sorted(set(listed) - SKIP_FLITE)

    def render(self, text: str, voice: str, prosody: Prosody, out: Path) -> None:
        # flite has no absolute pitch control that suits every voice: pitch is post-processed
        run_tool(["flite", "-voice", voice, "--setf", f"duration_stretch={1 / prosody.speed:.3f}",
              "-t", text, "-o", str(out)])


class Pico:
    """SVOX pico (pico2wave), English voices."""

    name = "pico"

    def available(self) -> bool:
        return shutil.which("pico2wave") is not None

    def voices(self) -> list[str]:
        return ["en-US", "en-GB"]

    def render(self, text: str, voice: str, prosody: Prosody, out: Path) -> None:
        run_tool(["pico2wave", "-l", voice, "-w", str(out), text])


ENGINES = {engine.name: engine for engine in (Espeak(), Mbrola(), Flite(), Pico())}


@functools.cache
def catalogue() -> dict[str, tuple[str, ...]]:
    """{engine: voices} for every engine installed here; KwsError when there is none."""
    found = {name: tuple(engine.voices()) for name, engine in ENGINES.items() if engine.available()}
    found = {name: voices for name, voices in found.items() if voices}
    if not found:
        raise KwsError("no offline TTS engine found; install espeak-ng and flite (tools/setup.sh)")
    return found


def bare_phonemes(espeak_x: str) -> str:
    """``espeak-ng -x`` output without stress marks and spaces: equal for words said alike."""
    return re.sub(r"[\s'_,%=:]", "", espeak_x)


def safe_name(voice: str) -> str:
    """A voice name usable in a file name."""
    return re.sub(r"[^A-Za-z0-9+.-]", "-", voice)

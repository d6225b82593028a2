"""`kws data ...`: get audio from Speech Commands, folders, offline TTS or the microphone."""

from __future__ import annotations

import getpass
import re
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from kws.cli import app
from kws.cli.options import CONFIG, MANIFEST, comma_list, project_config
from kws.data import folders, negatives, record, speech_commands, synth
from kws.labels import label_for
from kws.data.manifest import SPLITS, class_balance, read_manifest, split_notes
from kws.data.batch import Batch, Saved, save

data_app = typer.Typer(help="Get audio (Speech Commands, folders, TTS, microphone) into data/manifest.csv.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")



def _print_balance(balance: dict) -> None:
    table = Table("label", *SPLITS, "total", title="class balance")
    for label, row in balance.items():
        table.add_row(label, *(str(row[k]) for k in (*SPLITS, "total")))
    Console().print(table)
    for note in split_notes(balance):
        typer.echo(f"note: {note}")


def _report(saved: Saved) -> None:
    _print_balance(saved.balance)
    typer.echo(f"added {saved.added} clips to {saved.manifest} ({saved.total} in all); "
               f"class balance saved to {saved.balance_file}")
    if saved.duplicates:
        typer.echo(f"skipped {saved.duplicates} duplicate clips (same bytes as a clip already listed; "
                   f"one row per content, so no clip is in two splits): listed in {saved.rejected_report}")
    if saved.rejected:
        typer.echo(f"left out {saved.rejected} clips or files: reasons in {saved.rejected_report}")


@data_app.command("speech-commands")
def speech_commands_cmd(
    words: str = typer.Option(",".join(speech_commands.DEFAULT_WORDS), "--words", help="Comma-separated words to keep."),
    version: int = typer.Option(2, "--version", help="Dataset version (1 or 2)."),
    dest: Path = typer.Option(None, "--dest", help="Where to extract (default: beside the manifest)."),
    unknown_pct: float = typer.Option(10.0, "--unknown-pct", help="Percent of other words kept as _unknown_."),
    test_set: bool = typer.Option(False, "--test-set", help="Also fetch the canonical test set archive."),
    recipe: Path = typer.Option(None, "--recipe", help="TOML with archive URLs and sha256 (default: shipped)."),
    manifest: Path = MANIFEST,
    config_path: Path = CONFIG,
) -> None:
    """Download Google Speech Commands (resumable, verified, safely extracted).

    Examples:
    ```
    kws data speech-commands --words yes,no
    kws data speech-commands --test-set
    ```
    """
    manifest = project_config(config_path, manifest).data.manifest
    recipe_data = speech_commands.load_recipe(version, recipe)
    batch = Batch(manifest)
    speech_commands.fetch(batch, dest or manifest.parent / "speech_commands", tuple(comma_list(words)),
                          unknown_pct=unknown_pct, test_set=test_set, recipe=recipe_data)
    _report(save(batch))


@data_app.command("import")
def import_cmd(
    folder: Path = typer.Argument(..., help="Folder of `<label>/*.wav` (Speech Commands layout works as is)."),
    split: str = typer.Option(None, "--split", help="Put every clip in this split (train, val or test)."),
    manifest: Path = MANIFEST,
    config_path: Path = CONFIG,
) -> None:
    """Import a folder of wavs; your files are read, never changed.

    Examples:
    ```
    kws data import ~/my_words
    kws data import ../shared/data/speech_commands_test_dev --split test
    ```
    """
    manifest = project_config(config_path, manifest).data.manifest
    batch = Batch(manifest)
    folders.import_folder(folder, batch, manifest.parent / "silence" / folder.resolve().name, split=split)
    _report(save(batch))


@data_app.command("synth")
def synth_cmd(
    words: str = typer.Option(..., "--words", "-w", help='Comma-separated keywords, e.g. "yes,no,hey robot".'),
    n: int = typer.Option(200, "-n", help="Clips per word."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same clips (byte for byte)."),
    unknown_words: str = typer.Option("", "--unknown-words", help="Other words to synthesize as _unknown_."),
    negatives_too: bool = typer.Option(
        False, "--negatives", help="Also synthesize non-keyword speech as _unknown_: common words and phrases "
        "plus near-misses of the words (about 2 per keyword clip), into synth/negatives/."),
    jobs: int = typer.Option(None, "--jobs", "-j", help="Processes (default: all cores)."),
    out: Path = typer.Option(None, "--out", help="Where clips go (default: synth/ beside the manifest)."),
    manifest: Path = MANIFEST,
    config_path: Path = CONFIG,
) -> None:
    """Synthesize keywords with offline TTS (espeak-ng, flite, pico/mbrola when installed).

    Examples:
    ```
    kws data synth --words "yes,no,hey robot" -n 500 --seed 1
    kws data synth --words "hey robot" -n 500 --negatives
    ```
    """
    manifest = project_config(config_path, manifest).data.manifest
    batch = Batch(manifest)
    out = out or manifest.parent / "synth"
    _synth_line(synth.synthesize(batch, out, comma_list(words), n, seed, unknown_words=comma_list(unknown_words),
                                 jobs=jobs))
    if negatives_too:
        stats, near, common = negatives.synthesize(batch, out, comma_list(words),
                                                   round(negatives.TARGET_RATIO * n * len(comma_list(words))), seed,
                                                   jobs=jobs)
        typer.echo(f"negatives: {len(near)} near-misses ({', '.join(near[:6])}, ...) and {len(common)} common "
                   f"words and phrases, as _unknown_")
        _synth_line(stats)
    _report(save(batch))


def _synth_line(stats: synth.SynthStats) -> None:
    typer.echo(f"synthesized {stats.clips} clips in {stats.seconds:.1f} s ({stats.clips_per_s:.1f} clips/s) "
               f"from {stats.identities} voice identities" + (f"; {stats.failed} failed" if stats.failed else ""))


@data_app.command("record")
def record_cmd(
    word: str = typer.Option(..., "--word", help="The word to say."),
    n: int = typer.Option(30, "-n", help="Good takes to record."),
    speaker: str = typer.Option(None, "--speaker", help="Who speaks (default: your login name)."),
    out: Path = typer.Option(None, "--out", help="Where takes go (default: record/ beside the manifest)."),
    manifest: Path = MANIFEST,
    config_path: Path = CONFIG,
) -> None:
    """Record a word from the microphone with a countdown; bad takes are asked again.

    Examples:
    ```
    kws data record --word yes -n 30
    ```
    """
    manifest = project_config(config_path, manifest).data.manifest
    batch = Batch(manifest)
    kept = record.record(batch, out or manifest.parent / "record", label_for(word), n,
                         speaker or re.sub(r"[^A-Za-z0-9.-]", "-", getpass.getuser()), say=typer.echo)
    typer.echo(f"kept {kept} of {n} takes")
    _report(save(batch))


@data_app.command("summary")
def summary_cmd(manifest: Path = MANIFEST, config_path: Path = CONFIG) -> None:
    """Print the class balance of the manifest.

    Examples:
    ```
    kws data summary
    kws data summary --manifest other/manifest.csv
    ```
    """
    manifest = project_config(config_path, manifest).data.manifest
    clips = read_manifest(manifest)
    _print_balance(class_balance(clips))
    typer.echo(f"{len(clips)} clips in {manifest}")

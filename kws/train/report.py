"""Reports under ``reports/``: one JSON with every number, a Markdown summary,
and PNG plots (confusion matrix, ROC/DET per keyword, streaming trade-off,
training curves).  Every file is written atomically."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from kws.atomic import write_bytes_atomic, write_text_atomic
from kws.labels import keyword_labels


def _figure_bytes(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buffer.getvalue()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str) -> bytes:
    plt = _pyplot()
    m = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(labels), 0.8 + 0.5 * len(labels)))
    rows = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if m[i, j]:
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if rows[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return _figure_bytes(fig)


def plot_roc_det(curves: dict, title: str) -> bytes:
    from scipy.stats import norm

    plt = _pyplot()
    fig, (roc, det) = plt.subplots(1, 2, figsize=(10, 4.5))
    ticks = np.array([0.001, 0.01, 0.05, 0.2, 0.5])
    for name, c in curves.items():
        fpr, tpr = np.array(c["fpr"]), np.array(c["tpr"])
        roc.plot(fpr, tpr, label=f"{name} (AUC {c['auc']:.3f})")
        keep = (fpr > 0) & (tpr < 1)
        det.plot(norm.ppf(np.clip(fpr[keep], 1e-4, 1)), norm.ppf(np.clip(1 - tpr[keep], 1e-4, 1)),
                 label=f"{name} (EER {100 * c['eer']:.1f}%)")
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC: {title}")
    det.set(xlabel="false positive rate", ylabel="miss rate", title="DET")
    det.set_xticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    det.set_yticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    for ax in (roc, det):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return _figure_bytes(fig)


def plot_streaming(sweep: Sequence[dict], chosen: int, title: str) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    fa = [s["fa_per_hour"] for s in sweep]
    rate = [s["detection_rate"] or 0 for s in sweep]
    ax.plot(fa, rate, marker=".", markersize=3)
    point = sweep[chosen]
    ax.plot([point["fa_per_hour"]], [point["detection_rate"] or 0], "ro",
            label=f"threshold {chosen}: {point['fa_per_hour']:.1f} FA/h, "
                  f"{100 * (point['detection_rate'] or 0):.1f}% detected")
    ax.set_xscale("symlog", linthresh=1)
    ax.set(xlabel="false accepts per hour", ylabel="detection rate", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _figure_bytes(fig)


def plot_training(history: Sequence[dict], title: str) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = range(1, len(history) + 1)
    ax.plot(epochs, [h["accuracy"] for h in history], label="train accuracy (augmented)")
    ax.plot(epochs, [h["val_accuracy"] for h in history], label="validation accuracy")
    ax.plot(epochs, [h["loss"] for h in history], label="train loss", alpha=0.6)
    ax.set(xlabel="epoch", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _figure_bytes(fig)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def markdown(report: dict) -> str:
    """A human summary of the JSON report (training reports have more sections than eval ones)."""
    m, model = report["metrics"], report["model"]
    lines = [f"# kws report: {', '.join(keyword_labels(report['labels']))}", ""]
    if report.get("verdict"):
        lines += [f"**{report['verdict']['line']}**", ""]
    lines.append(f"- model: {model.get('description', model.get('architecture', '?'))}, "
                 f"{model['tflite_bytes']:,} bytes" + (f" (budget {model['size_budget']:,}), "
                                                      f"{model['params']:,} parameters, seed {model['seed']}"
                                                      if "params" in model else ""))
    if "load" in model:
        load, budget = model["load"], model["size_budget"]
        how = "streaming" if load["streaming"] else "whole window"
        lines.append(f"- fits: {model['tflite_bytes'] / 1000:.1f} KB of {budget / 1000:.1f} KB; "
                     f"{load['fraction']:.0%} load on {load['board']} (runtime {load['runtime']}, {how}, "
                     f"{load['instructions_per_s'] / 1e6:.1f} M instructions per second of audio)")
    if "data" in report:
        d = report["data"]
        lines.append(f"- data: {d['train']:,} training examples ({d['train_real']:,} real), validation "
                     f"{d['val']:,}, test {d['test']:,} {_test_kind(d)}")
    if "training" in report:
        t = report["training"]
        lines.append(f"- training: {t['epochs_run']} epochs, best at {t['best_epoch'] + 1}, {t['seconds']:.0f} s")
    lines += ["", "## Accuracy on the test clips", "", "| model | accuracy |", "|---|---|"]
    if "float" in m:
        lines.append(f"| float (Keras) | {_pct(m['float']['accuracy'])} |")
    lines.append(f"| int8 (TFLM interpreter) | {_pct(m['int8']['accuracy'])} |")
    if "float" in m:
        lines += ["", f"int8 vs float: {m['int8_minus_float_points']:+.2f} points "
                      f"({'within' if m['int8_check'] else 'NOT within'} 1 point); both pick the same class "
                      f"for {_pct(m['int8_float_agreement'])} of the clips."]
    lines += ["", "| class | precision | recall | clips |", "|---|---|---|---|"]
    for name, row in m["int8"]["per_class"].items():
        lines.append(f"| {name} | {_pct(row['precision'])} | {_pct(row['recall'])} | {row['support']} |")
    s = report.get("streaming")
    if s:
        t = s["test"]
        lines += [
            "",
            "## Streaming (posterior smoothing as on the device)",
            "",
            f"Threshold {s['smoothing']['threshold']}, averaging window {s['smoothing']['average_window_ms']} ms"
            + (_tuning_note(s) if s["tuned"] else " (from the model's metadata)")
            + f". On {t['hours'] * 60:.0f} min of test "
            f"audio (non-keyword speech and noise, {t['keywords']} keywords placed): "
            f"detection rate {_pct(t['detection_rate'])}, {t['fa_per_hour']:.2f} false accepts/hour "
            f"({t['false_accepts']} false accepts, {t.get('repeats', 0)} of them a second report of a "
            "detected keyword).",
        ]
    lines += ["", "Plots: " + ", ".join(f"`{Path(p).name}`" for p in report["files"]["plots"]), ""]
    return "\n".join(lines)


def _test_kind(data: dict) -> str:
    if not data["test_is_real"]:
        return "clips (no real test speakers: TTS voices)"
    tts = data.get("tts_tested")
    return "real clips of held-out speakers" + (f" (TTS voices for {', '.join(tts)})" if tts else "")


def _tuning_note(s: dict) -> str:
    if s.get("target_met", True):
        return f" (tuned for <= {s['target_fa_per_hour']} false accepts/hour on validation audio)"
    return (f" (NOT within the target of {s['target_fa_per_hour']} false accepts/hour: on validation audio no "
            f"threshold met it while detecting {s['min_detection']:.0%} of the keywords, so this is the highest "
            "threshold that does; more real recordings of the keywords help)")


def write_report(report: dict, folder: Path, stem: str, plots: dict[str, bytes]) -> dict[str, Path]:
    """Write ``<stem>.json``, ``<stem>.md`` and ``<stem>-<plot>.png`` files; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{stem}-{name}.png" for name in plots}
    report["files"] = {"plots": [str(p) for p in paths.values()], "json": str(folder / f"{stem}.json"),
                       "markdown": str(folder / f"{stem}.md")}
    for name, data in plots.items():
        write_bytes_atomic(paths[name], data)
    write_text_atomic(folder / f"{stem}.json", json.dumps(report, indent=1, default=_json_default))
    write_text_atomic(folder / f"{stem}.md", markdown(report))
    return {"json": folder / f"{stem}.json", "markdown": folder / f"{stem}.md", **paths}


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")

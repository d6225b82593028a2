"""Clip-level evaluation: accuracy, per-class precision/recall, confusion matrix,
ROC and DET curves per keyword (one keyword against everything else).

Pure numpy on (targets, scores); the plots are matplotlib figures written by
``kws.train.report``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def confusion(targets: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts [true class, predicted class]."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (targets, predicted), 1)
    return matrix


def classification_metrics(targets: np.ndarray, scores: np.ndarray, labels: Sequence[str]) -> dict:
    """Accuracy, per-class precision/recall/support and the confusion matrix.

    ``scores``: (n, classes), probabilities or int8 scores (argmax is all that counts).
    """
    predicted = np.asarray(scores).argmax(axis=1)
    matrix = confusion(targets, predicted, len(labels))
    per_class = {}
    for i, name in enumerate(labels):
        tp = int(matrix[i, i])
        predicted_i, support = int(matrix[:, i].sum()), int(matrix[i].sum())
        per_class[name] = {
            "precision": tp / predicted_i if predicted_i else None,
            "recall": tp / support if support else None,
            "support": support,
        }
    return {
        "accuracy": float((predicted == targets).mean()) if len(targets) else None,
        "count": int(len(targets)),
        "per_class": per_class,
        "confusion": matrix.tolist(),
    }


def roc_curve(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate, thresholds), thresholds descending."""
    order = np.argsort(-score, kind="stable")
    score, positive = score[order], positive[order]
    distinct = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    tps = np.cumsum(positive)[distinct]
    fps = (1 + distinct) - tps
    pos, neg = max(int(positive.sum()), 1), max(int((~positive).sum()), 1)
    return np.r_[0.0, fps / neg], np.r_[0.0, tps / pos], np.r_[np.inf, score[distinct]]


def keyword_curves(targets: np.ndarray, probs: np.ndarray, labels: Sequence[str]) -> dict:
    """Per keyword (labels not starting with '_'): ROC points, AUC and equal error rate."""
    curves = {}
    for i, name in enumerate(labels):
        if name.startswith("_"):
            continue
        positive = targets == i
        if not positive.any() or positive.all():
            continue
        fpr, tpr, _ = roc_curve(positive, probs[:, i].astype(np.float64))
        fnr = 1 - tpr
        k = int(np.argmin(np.abs(fnr - fpr)))
        curves[name] = {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "auc": float(np.trapezoid(tpr, fpr)),
                        "eer": float((fnr[k] + fpr[k]) / 2)}
    return curves

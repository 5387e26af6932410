"""Shared helpers for hetmap's plot scripts: CSV reading and saving PNG + PDF."""
import csv
import os

import matplotlib

matplotlib.use("Agg")  # files only: works without a display
import matplotlib.pyplot as plt  # noqa: E402

UNITS = {
    "mean_latency": "mean latency (ms)",
    "worst_latency": "worst-case latency (ms)",
    "energy": "energy per input (mJ)",
    "accuracy": "accuracy (top-1 share)",
    "throughput": "throughput (inputs/s)",
    "best_mean_latency_ms": "best mean latency (ms)",
    "best_worst_latency_ms": "best worst-case latency (ms)",
    "best_energy_mj": "best energy (mJ)",
    "hypervolume": "hypervolume",
    "front_size": "front size (points)",
    "improvement_pct": "improvement over the best baseline (%)",
}


def label(name):
    return UNITS.get(name, name)


def read_csv(path):
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def save(fig, path_without_ext):
    """Writes PATH.png and PATH.pdf atomically and returns the PNG path."""
    out = []
    for ext in ("png", "pdf"):
        final = f"{path_without_ext}.{ext}"
        tmp = f"{path_without_ext}.tmp.{os.getpid()}.{ext}"
        try:
            fig.savefig(tmp, dpi=150, bbox_inches="tight")
            os.replace(tmp, final)
        except OSError:
            if os.path.exists(tmp):
                os.remove(tmp)  # a failed plot leaves nothing behind
            raise
        out.append(final)
    plt.close(fig)
    return out[0]

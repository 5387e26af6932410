"""Pareto front of an exploration (front.csv) with its baselines (baselines.csv) marked."""
import os
import sys

from common import label, number, plt, read_csv, save

MARKERS = {"single": "s", "best-single": "*", "layer-switched": "D", "ee-coop": "^"}


def plot(folder):
    header, front = read_csv(os.path.join(folder, "front.csv"))
    objectives = header[1:-1]
    base_path = os.path.join(folder, "baselines.csv")
    baselines = read_csv(base_path)[1] if os.path.exists(base_path) else []
    x_name = objectives[0]
    y_name = objectives[1] if len(objectives) > 1 else None
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    xs = [number(r[x_name]) for r in front]
    ys = [number(r[y_name]) for r in front] if y_name else [0.0] * len(front)
    pts = sorted(zip(xs, ys))
    ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color="tab:blue", markersize=4,
            label=f"hetmap front ({len(front)} points)")
    for b in baselines:
        bx, by = number(b[x_name]), number(b[y_name]) if y_name else 0.0
        if bx is None or by is None:
            continue
        kind = b["name"].split(":")[0]
        ok = b.get("satisfies_constraints", "true") == "true"
        ax.scatter([bx], [by], marker=MARKERS.get(kind, "x"), s=50, zorder=3,
                   facecolors="none" if not ok else None, label=b["name"])
        ax.annotate(b["name"], (bx, by), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel(label(x_name))
    ax.set_ylabel(label(y_name) if y_name else "")
    ax.set_title(f"Pareto front: {os.path.basename(os.path.normpath(folder))}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=6, loc="best", ncol=2)
    return save(fig, os.path.join(folder, "pareto"))


if __name__ == "__main__":
    print(plot(sys.argv[1]))

"""A sweep's results (results.csv): a heat map over two grid keys, lines over one (one line per
value of the others), bars otherwise."""
import os
import sys

from common import label, number, plt, read_csv, save

FIXED = {"id", "task", "status", "best_mean_latency_ms", "best_worst_latency_ms", "best_energy_mj",
         "hypervolume", "front_size", "improvement_objective", "improvement_pct", "dir"}


def grouped_bars(folder, rows, varying, metric):
    """Cases (e.g. networks) along x, one bar per combination of the other keys; a log scale
    when the cases differ by orders of magnitude."""
    others = [k for k in varying if k != "case"]
    cases = list(dict.fromkeys(r["case"] for r in rows))
    combos = list(dict.fromkeys(tuple(r[k] for k in others) for r in rows))
    fig, ax = plt.subplots(figsize=(max(6.4, 0.9 * len(cases) + 2), 4.8))
    width = 0.8 / len(combos)
    for i, combo in enumerate(combos):
        value = {r["case"]: number(r[metric]) for r in rows if tuple(r[k] for k in others) == combo}
        xs = [j + (i - (len(combos) - 1) / 2) * width for j in range(len(cases))]
        ax.bar(xs, [value.get(c, float("nan")) for c in cases], width,
               label=", ".join(f"{k}={v}" for k, v in zip(others, combo)))
    values = [number(r[metric]) for r in rows]
    if min(values) > 0 and max(values) / min(values) > 30:
        ax.set_yscale("log")
    ax.set_xticks(range(len(cases)))
    ax.set_xticklabels(cases, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(label(metric))
    ax.legend(fontsize=7)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title(f"Sweep: {label(metric)}")
    fig.tight_layout()
    return save(fig, os.path.join(folder, "sweep_" + metric))


def plot(folder, metric="best_mean_latency_ms"):
    header, rows = read_csv(os.path.join(folder, "results.csv"))
    rows = [r for r in rows if r["status"] == "ok" and number(r[metric]) is not None]
    keys = [h for h in header if h not in FIXED]
    varying = [k for k in keys if len({r[k] for r in rows}) > 1]
    if "case" in varying and len(varying) > 1:
        return grouped_bars(folder, rows, varying, metric)
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    if len(varying) == 2:
        xk, yk = varying
        xs = sorted({r[xk] for r in rows}, key=lambda v: (number(v) is None, number(v) or 0, v))
        ys = sorted({r[yk] for r in rows}, key=lambda v: (number(v) is None, number(v) or 0, v))
        grid = [[float("nan")] * len(xs) for _ in ys]
        for r in rows:
            grid[ys.index(r[yk])][xs.index(r[xk])] = number(r[metric])
        im = ax.imshow(grid, cmap="viridis_r", aspect="auto")
        for i in range(len(ys)):
            for j in range(len(xs)):
                ax.text(j, i, f"{grid[i][j]:.4g}", ha="center", va="center", fontsize=8,
                        bbox=dict(boxstyle="round,pad=0.2", facecolor="white", alpha=0.8, linewidth=0))
        ax.set_xticks(range(len(xs)))
        ax.set_xticklabels(xs)
        ax.set_yticks(range(len(ys)))
        ax.set_yticklabels(ys)
        ax.set_xlabel(xk)
        ax.set_ylabel(yk)
        fig.colorbar(im, ax=ax, label=label(metric))
    elif varying and all(number(r[varying[0]]) is not None for r in rows):
        xk = varying[0]
        others = varying[1:]
        groups = {}
        for r in rows:
            groups.setdefault(tuple(r[k] for k in others), []).append(r)
        for g, rs in sorted(groups.items()):
            rs.sort(key=lambda r: number(r[xk]))
            name = ", ".join(f"{k}={v}" for k, v in zip(others, g)) or metric
            ax.plot([number(r[xk]) for r in rs], [number(r[metric]) for r in rs], "o-", label=name)
        ax.set_xlabel(xk)
        ax.set_ylabel(label(metric))
        ax.legend(fontsize=7)
        ax.grid(True, alpha=0.3)
    else:
        names = [", ".join(f"{k}={r[k]}" for k in varying) or r["id"] for r in rows]
        ax.bar(range(len(rows)), [number(r[metric]) for r in rows])
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=7)
        ax.set_ylabel(label(metric))
        ax.grid(True, axis="y", alpha=0.3)
    ax.set_title(f"Sweep: {label(metric)}")
    return save(fig, os.path.join(folder, "sweep_" + metric))


if __name__ == "__main__":
    print(plot(sys.argv[1], *(sys.argv[2:3])))

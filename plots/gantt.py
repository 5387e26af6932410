"""Gantt chart of one simulated schedule from its Chrome trace (one row per processor and link,
exit results marked)."""
import json
import sys

from common import plt, save

COLORS = {"backbone": "tab:blue", "exit": "tab:orange", "copy": "tab:gray"}


def plot(trace_path, out_without_ext, max_inputs=5):
    with open(trace_path) as f:
        events = json.load(f)["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e.get("name") == "thread_name"}
    rows = sorted(names)
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(rows) + 1.5))
    shown = set()
    spans = [e for e in events if e.get("ph") == "X" and e.get("args", {}).get("input", 0) < max_inputs]
    end_ms = max([(e["ts"] + e["dur"]) / 1000.0 for e in spans] + [1e-9])
    for e in events:
        if e.get("ph") != "X" or e.get("args", {}).get("input", 0) >= max_inputs:
            continue
        y = rows.index(e["tid"])
        cat = e.get("cat", "backbone")
        ax.barh(y, e["dur"] / 1000.0, left=e["ts"] / 1000.0, height=0.6, color=COLORS.get(cat, "tab:green"),
                edgecolor="black", linewidth=0.3, label=cat if cat not in shown else None)
        shown.add(cat)
        if e["dur"] / 1000.0 > 0.005 * len(e["name"]) * end_ms:  # label only where it fits
            ax.text((e["ts"] + e["dur"] / 2) / 1000.0, y, e["name"], ha="center", va="center", fontsize=5)
    for e in events:
        if e.get("ph") == "i" and e.get("args", {}).get("input", 0) < max_inputs:
            y = rows.index(e["tid"])
            ax.plot([e["ts"] / 1000.0], [y + 0.4], "v", color="tab:red", markersize=5)
            ax.annotate(e["name"], (e["ts"] / 1000.0, y + 0.45), fontsize=6, rotation=30)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([names[t] for t in rows])
    ax.invert_yaxis()
    ax.set_xlabel("time (ms)")
    ax.set_title("Schedule (red marks: results reaching the host)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return save(fig, out_without_ext)


if __name__ == "__main__":
    print(plot(sys.argv[1], sys.argv[2]))

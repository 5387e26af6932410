"""`hetmap plot DIR`: draws every plot a result folder supports.

- a sweep (results.csv): the sweep plot of best mean latency, and each point's plots;
- an exploration (front.csv): the Pareto front, and the Gantt chart of trace.json if present;
- a simulation (result.json): the Gantt chart (trace.json) and, for a DES run, the latency CDF;
- a validation (validation.csv): predicted vs measured latency.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cdf  # noqa: E402
import gantt  # noqa: E402
import pareto  # noqa: E402
import sweep  # noqa: E402
import validation  # noqa: E402


def plot_folder(folder):
    made = []
    if os.path.exists(os.path.join(folder, "front.csv")):
        made.append(pareto.plot(folder))
    if os.path.exists(os.path.join(folder, "trace.json")):
        made.append(gantt.plot(os.path.join(folder, "trace.json"), os.path.join(folder, "gantt")))
    if os.path.exists(os.path.join(folder, "latencies.csv")):
        made.append(cdf.plot(os.path.join(folder, "latencies.csv"), os.path.join(folder, "latency_cdf")))
    if os.path.exists(os.path.join(folder, "validation.csv")):
        made.append(validation.plot(os.path.join(folder, "validation.csv"), os.path.join(folder, "validation")))
    return made


def main(folder):
    made = []
    results = os.path.join(folder, "results.csv")
    if os.path.exists(results):
        for metric in ("best_mean_latency_ms", "best_energy_mj", "hypervolume"):
            try:
                made.append(sweep.plot(folder, metric))
            except (KeyError, ValueError, IndexError):
                pass  # a metric no point has (e.g. energy without power data)
        points = os.path.join(folder, "points")
        for p in sorted(os.listdir(points)) if os.path.isdir(points) else []:
            made += plot_folder(os.path.join(points, p))
    else:
        made += plot_folder(folder)
    if not made:
        print(f"hetmap: error: {folder}: nothing to plot (expected results.csv, front.csv, "
              "trace.json, latencies.csv or validation.csv)", file=sys.stderr)
        return 2
    for m in made:
        print(m)
    return 0


def write_error(e):
    """One line naming the file, what failed and why (docs/design.md, "Output files")."""
    path = e.filename if e.filename is not None else "(unknown file)"
    target = f" -> {e.filename2}" if getattr(e, "filename2", None) else ""
    return f"hetmap: error: {path}{target}: cannot write the plot: {e.strerror or e}"


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1]))
    except OSError as e:
        print(write_error(e), file=sys.stderr)
        sys.exit(1)

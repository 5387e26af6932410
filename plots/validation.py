"""Predicted vs measured mean latency of `hetmap validate` (validation.csv): one point per
mapping, the y = x line, and MAPE and Kendall's tau-b in the title (plus the energy MAPE over
the rows whose predicted_energy_mj and measured_energy_mj are both filled and whose run was long
enough for the power meters, when there are any). Log axes when the latencies span more than
a factor of 20.

    python3 plots/validation.py OUT/validation.csv [OUT/validation]
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import number, plt, read_csv, save  # noqa: E402
from metrics import kendall_tau_b, mape  # noqa: E402


def plot(csv_path, out_without_ext=None):
    _, rows = read_csv(csv_path)
    pts = [(number(r.get("predicted_mean_ms")), number(r.get("measured_mean_ms")), r.get("mapping", ""))
           for r in rows]
    pts = [p for p in pts if p[0] is not None and p[1] is not None]
    if not pts:
        raise ValueError(f"{csv_path}: no rows with predicted_mean_ms and measured_mean_ms")
    pred = [p[0] for p in pts]
    meas = [p[1] for p in pts]
    tau = kendall_tau_b(pred, meas)
    fig, ax = plt.subplots(figsize=(5.2, 5.0))
    lo = min(pred + meas)
    hi = max(pred + meas)
    # Latencies spanning more than a factor of 20 (GPU against CPU mappings): log axes, so that
    # the fast mappings do not sit on top of each other at the origin.
    log = lo > 0 and hi / lo > 20
    if log:
        lim = (lo / 1.5, hi * 1.5)
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:
        pad = 0.05 * (hi - lo if hi > lo else hi or 1.0)
        lim = (max(0.0, lo - pad), hi + pad)
    ax.plot(lim, lim, color="0.5", linestyle="--", linewidth=1, label="y = x (perfect prediction)")
    ax.scatter(meas, pred, s=22, color="tab:blue", zorder=3, label=f"mappings ({len(pts)})")
    if len(pts) <= 12:
        for p, m, name in pts:
            ax.annotate(os.path.splitext(name)[0], (m, p), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
    ax.set_xlim(lim)
    ax.set_ylim(lim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("measured mean latency (ms)" + (", log scale" if log else ""))
    ax.set_ylabel("predicted mean latency (ms)" + (", log scale" if log else ""))
    tau_text = "undefined" if math.isnan(tau) else f"{tau:.3f}"
    title = f"predicted vs measured: MAPE {mape(pred, meas):.2f}%, Kendall tau-b {tau_text}"
    # Energy columns (newer validation.csv files): empty cells where energy is not available.
    # Rows whose run was too short for the power meters (energy_scope "...;coarse") are left
    # out, as hetmap validate leaves them out of its energy MAPE.
    energy = [(number(r.get("predicted_energy_mj")), number(r.get("measured_energy_mj")))
              for r in rows if ";coarse" not in (r.get("energy_scope") or "")]
    energy = [(p, m) for p, m in energy if p is not None and m is not None and m != 0]
    scopes = sorted({(r.get("energy_scope") or "").split(";")[0] for r in rows} - {"", "all"})
    if energy:
        title += (f"\nenergy MAPE {mape([p for p, _ in energy], [m for _, m in energy]):.2f}%"
                  f" ({len(energy)} of {len(rows)} mappings"
                  f"{', energy of ' + '+'.join(scopes) + ' only' if scopes else ''})")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    if out_without_ext is None:
        out_without_ext = os.path.join(os.path.dirname(os.path.abspath(csv_path)), "validation")
    return save(fig, out_without_ext)


if __name__ == "__main__":
    print(plot(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))

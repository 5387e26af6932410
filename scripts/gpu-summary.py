#!/usr/bin/env python3
"""Summary of a scripts/gpu-validate.sh run (docs/validation.md, "GPU machine").

    scripts/gpu-summary.py OUT MODEL [MODEL ...]

Reads OUT/MODEL/validate/validation.csv and OUT/MODEL/profile/platform.yaml for each model and
prints a Markdown summary: the machine, then per model the MAPE and Kendall tau-b of the
predicted against the measured mean and worst latency (and energy where both sides have it),
and whether the best explored mapping beats the best single processor in reality.

Mapping names follow `hetmap explore`'s files: N.yaml are front mappings, baseline-single-P.yaml
run everything on processor P, other baseline-*.yaml are the other baselines, mNNN.yaml random.
"""
import csv
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plots"))
from metrics import kendall_tau_b, mape  # noqa: E402  (no plotting library needed)


TERMS = ["launch overhead", "transfers", "contention"]


def rows_of(path):
    with open(path, newline="") as f:
        lines = [l for l in f if not l.startswith("#")]
    return list(csv.DictReader(lines))


def source_of(path):
    with open(path) as f:
        for line in f:
            if line.startswith("source:"):
                return line.split(":", 1)[1].strip().strip('"')
    return "unknown"


def num(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def kind(name):
    base = os.path.splitext(name)[0]
    if base.isdigit():
        return "front"
    if base.startswith("baseline-"):
        return "baseline"
    return "random"


def fmt(x, unit="", digits=2):
    return "n/a" if x is None else f"{x:.{digits}f}{unit}"


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: gpu-summary.py OUT MODEL [MODEL ...]")
    out, models = sys.argv[1], sys.argv[2:]
    print("# hetmap on a CUDA machine: validation summary\n")
    first = os.path.join(out, models[0], "profile", "platform.yaml")
    if os.path.exists(first):
        print(f"Machine: {source_of(first)}\n")
    print("| model | mappings | mean latency MAPE | tau-b (mean) | worst latency MAPE | "
          "tau-b (worst) | largest latency MAPE | tau-b (largest) | energy MAPE | best explored "
          "(measured) | best single processor (measured) | gain in reality | gain predicted |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |")
    for model in models:
        path = os.path.join(out, model, "validate", "validation.csv")
        if not os.path.exists(path):
            print(f"| {model} | missing: {path} |")
            continue
        rows = rows_of(path)
        pm = [num(r["predicted_mean_ms"]) for r in rows]
        mm = [num(r["measured_mean_ms"]) for r in rows]
        pw = [num(r.get("predicted_worst_ms")) for r in rows]
        mw = [num(r.get("measured_worst_ms")) for r in rows]
        px = [num(r.get("predicted_max_ms")) for r in rows]
        mx = [num(r.get("measured_max_ms")) for r in rows]
        have_max = all(v is not None for v in px + mx)
        long_enough = [";coarse" not in (r.get("energy_scope") or ";coarse") for r in rows]
        pe = [num(r.get("predicted_energy_mj")) if ok else None for r, ok in zip(rows, long_enough)]
        me = [num(r.get("measured_energy_mj")) if ok else None for r, ok in zip(rows, long_enough)]
        scopes = sorted({r.get("energy_scope", "").split(";")[0] for r in rows} - {""})
        tau_mean = kendall_tau_b(pm, mm)
        have_worst = all(v is not None for v in pw + mw)
        tau_worst = kendall_tau_b(pw, mw) if have_worst else None
        have_energy = any(p is not None and m is not None for p, m in zip(pe, me))

        front = [r for r in rows if kind(r["mapping"]) == "front"]
        singles = [r for r in rows if r["mapping"].startswith("baseline-single")]
        gain = gain_pred = None
        best_txt = single_txt = "n/a"
        if front and singles:
            best = min(front, key=lambda r: float(r["predicted_mean_ms"]))
            single = min(singles, key=lambda r: float(r["measured_mean_ms"]))
            single_pred = min(singles, key=lambda r: float(r["predicted_mean_ms"]))
            bm, sm = float(best["measured_mean_ms"]), float(single["measured_mean_ms"])
            gain = 100.0 * (sm - bm) / sm
            bp, sp = float(best["predicted_mean_ms"]), float(single_pred["predicted_mean_ms"])
            gain_pred = 100.0 * (sp - bp) / sp
            best_txt = f"{best['mapping']}: {bm:.3f} ms"
            single_txt = f"{single['mapping']}: {sm:.3f} ms"
        print(f"| {model} | {len(rows)} ({len(front)} front, "
              f"{sum(kind(r['mapping']) == 'baseline' for r in rows)} baselines, "
              f"{sum(kind(r['mapping']) == 'random' for r in rows)} random) | "
              f"{fmt(mape(pm, mm), '%')} | {fmt(tau_mean, '', 3)} | "
              f"{fmt(mape(pw, mw) if have_worst else None, '%')} | {fmt(tau_worst, '', 3)} | "
              f"{fmt(mape(px, mx) if have_max else None, '%')} | "
              f"{fmt(kendall_tau_b(px, mx) if have_max else None, '', 3)} | "
              f"{fmt(mape(pe, me) if have_energy else None, '%')}"
              f"{' (' + '/'.join(scopes) + ', ' + str(sum(p is not None and m is not None for p, m in zip(pe, me))) + ' runs)' if have_energy else ''} | "
              f"{best_txt} | {single_txt} | "
              f"{fmt(gain, '%', 1)} | {fmt(gain_pred, '%', 1)} |")
    print("\nWorst latency: the slowest result's latency (the search's worst_latency; for a model "
          "without exits, the mean). Largest latency: the single slowest input, which also holds "
          "the machine's noise.\n")
    print("Gain = (best single processor - best explored) / best single processor, mean "
          "latency; 'best explored' is the front mapping with the lowest predicted mean latency. "
          "Energy is compared over the processors the power meters cover (energy_scope), on runs "
          "long enough for the meters.\n")

    # What each term of the model buys: the mean-latency MAPE with the full model and with one
    # term taken out (hetmap validate's predicted_mean_ms_no_* columns).
    print("| model | full model | " + " | ".join(f"without {t}" for t in TERMS) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in TERMS) + " |")
    for model in models:
        path = os.path.join(out, model, "validate", "validation.csv")
        if not os.path.exists(path):
            continue
        rows = rows_of(path)
        mm = [num(r["measured_mean_ms"]) for r in rows]
        cells = [fmt(mape([num(r["predicted_mean_ms"]) for r in rows], mm), "%")]
        for t in TERMS:
            col = "predicted_mean_ms_no_" + t.replace(" ", "_")
            cells.append(fmt(mape([num(r.get(col)) for r in rows], mm), "%") if col in rows[0] else "n/a")
        print(f"| {model} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

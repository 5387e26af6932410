"""Validation metrics as hetmap::backend computes them (backends/src/validate.cpp), for the
plots and scripts that read validation.csv: no plotting library needed."""
import math


def mape(predicted, measured):
    """Mean absolute percentage error (%) over the pairs where both values exist and the
    measured one is not 0; None when there is no such pair."""
    pairs = [(p, m) for p, m in zip(predicted, measured) if p is not None and m]
    if not pairs:
        return None
    return 100.0 * sum(abs(p - m) / abs(m) for p, m in pairs) / len(pairs)


def kendall_tau_b(x, y):
    """Tie-corrected Kendall tau (as hetmap::backend::kendall_tau_b); NaN if undefined."""
    n = len(x)
    conc = disc = ties_x = ties_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            ties_x += dx == 0
            ties_y += dy == 0
            if dx == 0 or dy == 0:
                continue
            if (dx > 0) == (dy > 0):
                conc += 1
            else:
                disc += 1
    n0 = n * (n - 1) / 2
    denom = math.sqrt((n0 - ties_x) * (n0 - ties_y))
    return (conc - disc) / denom if denom > 0 else float("nan")

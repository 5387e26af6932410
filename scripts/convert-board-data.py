#!/usr/bin/env python3
"""Regenerates the shipped board profiles from the published measurements.

    scripts/convert-board-data.py --data data [--out profiles] [--models models]
                                  [--hetmap build/hetmap] [--estimate-npu DIR]

writes profiles/rock-pi-n10/ and profiles/khadas-vim3/: platform.yaml, MODEL.csv and
MODEL.transfers.csv per model. Standard library only; model structure (layer names, inputs,
tensor bytes) comes from the C++ loader through `hetmap info --json`, so the converter never
re-implements shape inference. The output is deterministic: running it again reproduces the
shipped files byte for byte (tests/test_board_profiles.cpp checks this).

The method, its assumptions and the calibration against the board's end-to-end measurements
are in docs/profiles.md. In short:
  * per-layer times: the `task` rows of Layers.csv, one profile row per (layer, processor,
    DVFS level); the GPU's rows are those measured with the host CPU at its top level;
  * copies: Transfers.csv rows as MODEL.transfers.csv; links (for tensors without a measured
    copy) fitted by least squares, latency + bytes / bandwidth, per processor pair;
  * the NPU (Rock Pi only): its per-layer `task` rows time a layer run alone on the NPU, tensor
    upload and download included, so they cannot be summed. hetmap models an NPU layer as a
    short compute (a share of `task` and of the host-side NPU_load time) and charges the
    tensors that cross into and out of the NPU to an npu link; the three coefficients are
    fitted by least squares on relative error to the board's whole-mapping measurements
    (calibration/YOLOv3_*.csv) — an estimate, labelled as such in every file;
  * power: whole-board power while a processor runs layers at a level, split so that the
    simulator's active + idle powers add up to the measured board power (docs/profiles.md);
  * `--estimate-npu DIR` (an experiment, never the shipped folder): a copy of rock-pi-n10/ whose
    networks without N rows get npu rows estimated by `hetmap estimate` from MobileNetV1's and
    YOLOv3's; they fail the calibration bar (docs/profiles.md, "Estimated NPU rows").
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

UPSTREAM = "github.com/Ehsan-aghapour/CO-UP-Profiling"

# --- Rock Pi N10 (RK3399Pro) -------------------------------------------------------------------
# DVFS levels (MHz). Level counts and end points are the data README's; the levels in between are
# the operating points of the RK3399 OPP tables (Linux arch/arm64/boot/dts/rockchip/
# rk3399-opp.dtsi: cluster0 = little A53, cluster1 = big A72) and of the Mali-T860 table of
# Rockchip's RK3399(Pro) BSP kernel (200/300/400/600/800 MHz).
ROCK_FREQS = {
    "B": [408, 600, 816, 1008, 1200, 1416, 1608, 1800],
    "L": [408, 600, 816, 1008, 1200, 1416],
    "G": [200, 300, 400, 600, 800],
}
ROCK_PROCS = [  # (letter, name, kind, cores)
    ("B", "big", "cpu", 2),
    ("L", "little", "cpu", 4),
    ("G", "gpu", "gpu", None),
    ("N", "npu", "npu", None),
]
# Data graph name -> model file stem (models/STEM.yaml, profiles/PLATFORM/STEM.csv).
ROCK_MODELS = {
    "Alex": "alexnet",
    "Google": "googlenet",
    "MobileV1": "mobilenetv1",
    "ResV1_50": "resnet50",
    "SqueezeV1": "squeezenet",
    "YOLOv3": "yolov3",
}
HOST_TOP = 7  # the big cluster's top level: GPU rows are taken at Freq_Host = 7

# --- Khadas VIM3 (Amlogic A311D) ---------------------------------------------------------------
# Maximum frequencies only (the data's rows are all at 'max'): the top operating points of the
# A311D in Linux arch/arm64/boot/dts/amlogic/meson-g12b-a311d.dtsi (A73 2208 MHz, A53 1800 MHz)
# and meson-g12-common.dtsi (Mali-G52 799.99 MHz, written 800).
VIM3_PROCS = [
    ("B", "big", "cpu", 4, 2208),
    ("L", "little", "cpu", 2, 1800),
    ("G", "gpu", "gpu", None, 800),
]
VIM3_MODELS = {
    "Google": "googlenet",
    "InceptionV3": "inceptionv3",
    "InceptionV4": "inceptionv4",
    "InceptionResnetV2": "inception-resnet-v2",
}


class ConvertError(Exception):
    pass


def fail(msg):
    raise ConvertError(msg)


# --- small numeric helpers (no numpy: the converter runs on a bare Python 3) -----------------

def solve(a, b):
    """Solves the square system a x = b by Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [list(row) + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        if abs(m[p][c]) < 1e-300:
            fail("least squares: singular system (the data does not determine the fit)")
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / m[i][i] for i in range(n)]


def least_squares(rows, targets, weights=None):
    """Minimises sum w_i (x . rows_i - targets_i)^2 through the normal equations."""
    n = len(rows[0])
    w = weights or [1.0] * len(rows)
    ata = [[sum(wi * r[i] * r[j] for r, wi in zip(rows, w)) for j in range(n)] for i in range(n)]
    atb = [sum(wi * r[i] * t for r, t, wi in zip(rows, targets, w)) for i in range(n)]
    return solve(ata, atb)


def num(x, digits=6):
    """Deterministic short text for a computed number."""
    if x == 0:
        return "0"
    s = f"{x:.{digits}g}"
    return s if "e" not in s else f"{x:.{digits + 4}f}".rstrip("0").rstrip(".")


# --- inputs --------------------------------------------------------------------------------------

def read_csv(path):
    if not os.path.exists(path):
        fail(f"{path}: file not found")
    with open(path, newline="") as f:
        return [(i + 2, r) for i, r in enumerate(csv.DictReader(f))]


def model_info(hetmap, models_dir, stem):
    path = os.path.join(models_dir, stem + ".yaml")
    if not os.path.exists(path):
        fail(f"{path}: model file not found (needed for the data's graph)")
    p = subprocess.run([hetmap, "info", "-m", path, "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        fail(p.stderr.strip() or f"{hetmap} info -m {path} failed")
    info = json.loads(p.stdout)
    info["path"] = path
    return info


def consumers(info):
    """Producer index (-1 = model input) -> consumer layer indices."""
    out = {}
    for i, layer in enumerate(info["layers"]):
        for p in layer["inputs"]:
            out.setdefault(p, []).append(i)
    return out


class Layers:
    """Layers.csv indexed by (graph, component, freq, freq_host, layer, metric)."""

    def __init__(self, path):
        self.path = path
        self.rows = {}
        for line, r in read_csv(path):
            if not r["Graph"]:
                continue  # the file has blank separator rows
            key = (r["Graph"], r["Component"], r["Freq"], r["Freq_Host"], int(r["Layer"]),
                   r["Metric"])
            value = (r["Time"], r["Power"], line)
            if key in self.rows and self.rows[key][0] != r["Time"]:
                fail(f"{path}:{line}: {key} measured twice with different times")
            self.rows.setdefault(key, value)

    def time(self, *key):
        return float(self.rows[key][0])

    def has(self, *key):
        return key in self.rows

    def layer_count(self, graph):
        return 1 + max(k[4] for k in self.rows if k[0] == graph)


def check_layers(info, data, graph, path):
    n = data.layer_count(graph)
    if len(info["layers"]) != n:
        fail(f"{info['path']}: {len(info['layers'])} top-level layers, but {path} has {n} for "
             f"graph {graph} (data layer i must be the model's i-th layer)")


# --- outputs -------------------------------------------------------------------------------------

def write_atomic(path, text):
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".convert-")
    try:
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; shipped files are ordinary
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# --- Rock Pi: links -------------------------------------------------------------------------------

LETTER = {"B": "big", "L": "little", "G": "gpu", "N": "npu"}


def transfers_rows(path):
    """Transfers.csv -> {(graph, layer, src, dst): time text}; the file repeats its blocks."""
    out = {}
    for line, r in read_csv(path):
        if not r["Graph"]:
            continue
        key = (r["Graph"], int(r["Layer"]), r["Src"], r["Dest"])
        if key in out and float(out[key]) != float(r["Time"]):
            fail(f"{path}:{line}: {key} measured twice with different times")
        out.setdefault(key, r["Time"])
    return out


def fit_links(transfers, infos):
    """Per unordered pair: latency_ms + bytes / bandwidth, least squares over every model's
    measured copies (both directions: hetmap's links are undirected)."""
    links = {}
    for pair in [("B", "G"), ("B", "L"), ("L", "G")]:
        xs, ys = [], []
        for (graph, layer, src, dst), t in transfers.items():
            if {src, dst} == set(pair):
                xs.append(infos[graph]["layers"][layer]["bytes"])
                ys.append(float(t))
        lat, ms_per_byte = least_squares([[1.0, x] for x in xs], ys)
        if ms_per_byte <= 0:
            fail(f"link fit {pair}: non-positive slope")
        resid = math.sqrt(sum((lat + ms_per_byte * x - y) ** 2 for x, y in zip(xs, ys)) / len(xs))
        links[pair] = {"latency_ms": max(lat, 0.0), "gbytes_per_s": 1.0 / (ms_per_byte * 1e6),
                       "n": len(xs), "rms_ms": resid}
    return links


def link_ms(links, a, b, nbytes):
    for pair, l in links.items():
        if {a, b} == set(pair):
            return l["latency_ms"] + nbytes / (l["gbytes_per_s"] * 1e9) * 1e3
    return 0.0


# --- Rock Pi: the NPU fit -------------------------------------------------------------------------

# Top levels per component: (level, host level); -1 = no host level.
TOP_LEVEL = {"B": (7, -1), "L": (5, -1), "G": (4, 7), "N": (7, 7)}


def calibration_levels(order, text, where):
    """The calibration files' `freq` column -> {component: (level, host level)}: one tuple per
    layer ((b,) (l,) (g, host) (host,) for N), or 'max'/'min' for every component
    (`{{max}}` = all at max)."""
    import ast
    if text == "{{max}}":
        text = "(('max',),)"
    try:
        tuples = [tuple(t) for t in ast.literal_eval(text)]
    except (ValueError, SyntaxError):
        fail(f"{where}: unreadable freq {text!r}")
    if len(tuples) == 1:
        tuples = tuples * len(order)
    if len(tuples) != len(order):
        fail(f"{where}: {len(tuples)} freq tuples for {len(order)} layers")
    out = {}
    for c, t in zip(order, tuples):
        if t[0] in ("max", "min"):
            top = TOP_LEVEL[c]
            lv = top if t[0] == "max" else (0, 0 if top[1] >= 0 else -1)
        elif c == "N":
            lv = (t[0], t[0])
        else:
            lv = (t[0], t[1] if len(t) > 1 else -1)
        if out.setdefault(c, lv) != lv:
            fail(f"{where}: component {c} at two levels")
    return out


def latency(info, cons, place, dur, copy_ms, host="B"):
    """One input's latency under docs/semantics.md (contention 1.0): processors run their
    ready layers in declaration order, one at a time; a finished tensor is copied once to each
    other processor that consumes it (the final result also to the host), copies on one link
    one at a time in request order. A compact twin of sim/src/evaluator.cpp for the NPU fit,
    which needs thousands of evaluations per run; the calibration test checks the shipped
    profile with the real simulator."""
    n = len(place)
    final = n - 1
    avail = {}
    link_free = {}
    order = "BLGN"

    def finish(p, t):
        src = host if p < 0 else place[p]
        avail[(p, src)] = t
        dsts = {place[q] for q in cons.get(p, [])} | ({host} if p == final else set())
        for d in sorted(dsts - {src}, key=order.index):
            link = frozenset((src, d))
            begin = max(t, link_free.get(link, 0.0))
            end = begin + copy_ms(p, src, d)
            link_free[link] = end
            avail[(p, d)] = end

    queue = {c: [l for l in range(n) if place[l] == c] for c in sorted(set(place))}
    busy = {c: 0.0 for c in queue}
    running = {}  # finish time -> layers
    t = 0.0
    finish(-1, 0.0)
    done = 0
    while done < n:
        for l in sorted(running.pop(t, [])):  # this instant's finishes, in declaration order
            finish(l, t)
            done += 1
        for c in queue:
            if busy[c] > t or not queue[c]:
                continue
            for l in queue[c]:
                if all(avail.get((p, c), math.inf) <= t for p in info["layers"][l]["inputs"]):
                    queue[c].remove(l)
                    busy[c] = t + dur[l]
                    running.setdefault(busy[c], []).append(l)
                    break
        if t in running or done == n:
            continue  # a zero-length layer finished at this instant
        later = [x for x in list(running) + list(avail.values()) if x > t]
        if not later:
            fail("NPU fit: a calibration mapping deadlocked the schedule")
        t = min(later)
    return avail[(final, host)]


def npu_predictor(data, transfers, links, info):
    """predict(theta, order, h): the latency of a YOLOv3 mapping (`order`: one of B/L/G/N per
    layer; B/L/G at their top levels, the NPU's host at level h) under NPU coefficients
    theta = (a, b, ms_per_byte)."""
    graph = "YOLOv3"
    final = len(info["layers"]) - 1
    cons = consumers(info)

    def nbytes(p):
        return info["input_bytes"] if p < 0 else info["layers"][p]["bytes"]

    def fixed_copy(p, src, dst):
        if p < 0 or p == final:
            return 0.0  # input / output stage: outside task_time (stage_rows)
        t = transfers.get((graph, p, src, dst))
        return float(t) if t is not None else link_ms(links, src, dst, nbytes(p))

    def predict(theta, order, h):
        a, b, ms_per_byte = theta
        dur = []
        for l, c in enumerate(order):
            if c == "N":
                dur.append(a * data.time(graph, "N", h, h, l, "task") +
                           b * data.time(graph, "N", h, h, l, "NPU_load"))
            else:
                level, host = TOP_LEVEL[c]
                dur.append(data.time(graph, c, str(level), str(host), l, "task"))

        def copy(p, src, dst):
            return ms_per_byte * nbytes(p) if "N" in (src, dst) else fixed_copy(p, src, dst)
        return latency(info, cons, order, dur, copy)

    return predict


def npu_fit(data, transfers, links, info, calib_dir):
    """Fits (a, b, ms_per_byte): an NPU layer at host level h takes a * task(l, h) +
    b * NPU_load(l, h); a tensor crossing into or out of the NPU costs ms_per_byte * bytes.

    Each whole-mapping measurement with an NPU layer (calibration/YOLOv3_*.csv; their other
    processors all run at their top levels) is predicted with the simulator's rules
    (latency()), using the measured copies of Transfers.csv, zero for the input and output
    stages (outside task_time), and the fitted links otherwise. Gauss-Newton on relative error,
    so the whole-NPU mappings (a few hundred ms) weigh as much as the mixed ones (seconds),
    started from a linearisation around zero NPU cost."""
    n = len(info["layers"])
    cases = []  # (order, host level, measured ms)
    for name in ["YOLOv3_mixed.csv", "YOLOv3_single.csv"]:
        path = os.path.join(calib_dir, name)
        for line, r in read_csv(path):
            order = r["order"]
            if "N" not in order:
                continue
            if len(order) != n:
                fail(f"{path}:{line}: {len(order)} letters in order, the model has {n} layers")
            levels = calibration_levels(order, r["freq"], f"{path}:{line}")
            if any(levels[c] != TOP_LEVEL[c] for c in levels if c != "N"):
                continue  # B/L/G away from their top levels (no such rows in the data)
            cases.append((order, str(levels["N"][0]), float(r["task_time"])))
    if len(cases) < 3:
        fail(f"{calib_dir}: too few whole-mapping NPU measurements to fit the NPU model")

    predict = npu_predictor(data, transfers, links, info)

    # Start: the latency's linearisation around theta = 0 (exact where the schedule's order
    # does not change), fitted by weighted least squares.
    features, targets, weights = [], [], []
    for order, h, t in cases:
        zero = predict((0.0, 0.0, 0.0), order, h)
        features.append([predict(e, order, h) - zero for e in
                         [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1e-6)]])
        targets.append(t - zero)
        weights.append(1.0 / (t * t))
    theta = least_squares(features, targets, weights)
    theta[2] *= 1e-6
    # Gauss-Newton on the simulator's (piecewise-linear) latency, relative residuals.
    for _ in range(4):
        steps = [theta[0] * 1e-3, theta[1] * 1e-3, theta[2] * 1e-3]
        jac, res = [], []
        for order, h, t in cases:
            y0 = predict(theta, order, h)
            row = []
            for k in range(3):
                th = list(theta)
                th[k] += steps[k]
                row.append((predict(th, order, h) - y0) / steps[k] / t)
            jac.append(row)
            res.append((t - y0) / t)
        delta = least_squares(jac, res)
        theta = [x + d for x, d in zip(theta, delta)]
    a, b, ms_per_byte = theta
    if min(a, b, ms_per_byte) <= 0:
        fail(f"NPU fit gave a non-positive coefficient ({a}, {b}, {ms_per_byte})")
    errs = [abs(predict(theta, o, h) - t) / t for o, h, t in cases]
    return {"a": a, "b": b, "gbytes_per_s": 1.0 / (ms_per_byte * 1e6), "rows": len(cases),
            "mape": 100.0 * sum(errs) / len(errs)}


# --- Rock Pi: power -------------------------------------------------------------------------------

def rock_power(data):
    """Mean whole-board power (W) while each component runs layers at each level, weighted by
    time over every model's `task` rows; and the lowest board power in the file (W)."""
    acc = {}
    lowest = math.inf
    for (graph, comp, f, fh, layer, metric), (t, p, _) in data.rows.items():
        if not p:
            continue
        lowest = min(lowest, float(p))
        if metric != "task" or (comp == "G" and fh != str(HOST_TOP)):
            continue
        e, s = acc.get((comp, int(f)), (0.0, 0.0))
        acc[(comp, int(f))] = (e + float(p) * float(t), s + float(t))
    return {k: e / s / 1000.0 for k, (e, s) in acc.items()}, lowest / 1000.0


# --- writers ---------------------------------------------------------------------------------------

def yaml_list(values):
    return "[" + ", ".join(values) + "]"


def profile_csv(header_lines, rows):
    out = [f"# {h}" if h else "#" for h in header_lines]
    out.append("layer,processor,freq_mhz,mean_ms")
    out += [",".join(r) for r in rows]
    return "\n".join(out) + "\n"


def transfers_csv(header_lines, rows):
    out = [f"# {h}" if h else "#" for h in header_lines]
    out.append("layer,from,to,mean_ms")
    out += [",".join(r) for r in rows]
    return "\n".join(out) + "\n"


def stage_rows(info, procs, host="big"):
    """Zero-cost copies for the input and output stages: the board's task_time (what hetmap's
    latency models) excludes them; Layers.csv times them separately as `in` and `out`."""
    rows = [["input", host, p, "0"] for p in procs if p != host]
    final = info["layers"][-1]["name"]
    rows += [[final, p, host, "0"] for p in procs if p != host]
    return rows


def convert_rock_pi(data_dir, out_dir, models_dir, hetmap):
    src_dir = os.path.join(data_dir, "rock-pi-n10")
    layers_path = os.path.join(src_dir, "Layers.csv")
    data = Layers(layers_path)
    transfers = transfers_rows(os.path.join(src_dir, "Transfers.csv"))
    infos = {}
    for graph, stem in ROCK_MODELS.items():
        infos[graph] = model_info(hetmap, models_dir, stem)
        check_layers(infos[graph], data, graph, layers_path)
    links = fit_links(transfers, infos)
    npu = npu_fit(data, transfers, links, infos["YOLOv3"], os.path.join(src_dir, "calibration"))
    power, lowest_w = rock_power(data)
    n_procs = len(ROCK_PROCS)
    idle_w = lowest_w / n_procs

    files = {}
    # platform.yaml
    lines = [
        "# Rock Pi N10 (Rockchip RK3399Pro), converted from measured data by",
        "# scripts/convert-board-data.py; do not edit by hand. Method: docs/profiles.md.",
        "name: rk3399pro",
        "host: big",
        "processors:",
    ]
    for letter, name, kind, cores in ROCK_PROCS:
        freqs = ROCK_FREQS.get(letter, ROCK_FREQS["B"])  # the NPU's level = its host's level
        act = [num(power[(letter, i)] - idle_w * (n_procs - 1), 4) for i in range(len(freqs))]
        core = f", cores: {cores}" if cores else ""
        lines.append(f"  - {{name: {name}, kind: {kind}{core}, freqs_mhz: "
                     f"{yaml_list(str(f) for f in freqs)}, active_w: {yaml_list(act)}, "
                     f"idle_w: {num(idle_w, 4)}}}")
    lines.append("links:")
    for (a, b), l in links.items():
        lines.append(f"  - {{between: [{LETTER[a]}, {LETTER[b]}], latency_ms: "
                     f"{num(l['latency_ms'], 4)}, gbytes_per_s: {num(l['gbytes_per_s'], 4)}}}"
                     f"  # fit of {l['n']} measured copies, rms {num(l['rms_ms'], 3)} ms")
    for other in ["big", "little", "gpu"]:
        lines.append(f"  - {{between: [npu, {other}], latency_ms: 0, gbytes_per_s: "
                     f"{num(npu['gbytes_per_s'], 4)}}}  # estimated (NPU fit)")
    lines.append("contention: 1.0")
    lines.append(
        'source: "measured on a Rock Pi N10 by ' + UPSTREAM + ' (Profiling/Data: Layers.csv, '
        "Transfers.csv; data/rock-pi-n10). freqs_mhz: RK3399 OPP tables (level counts "
        "and end points as in the data; the NPU is listed with its host CPU's levels, which is "
        "what the data varies). active_w/idle_w: whole-board power while the processor runs "
        "layers at that level (time-weighted mean of Layers.csv Power over every model's task "
        f"rows, GPU with the host at its top level), minus the other processors' idle_w; idle_w: "
        f"estimated ({num(lowest_w, 4)} W, the lowest board power in Layers.csv, split evenly "
        "over the processors). links big/little/gpu: least-squares fits of Transfers.csv against "
        "tensor bytes. npu links: estimated, fitted to the whole-mapping task times of "
        "calibration/YOLOv3_mixed.csv and YOLOv3_single.csv (docs/profiles.md). contention 1.0: "
        'the data measures one layer at a time, so it shows no concurrent slowdown."')
    files["platform.yaml"] = "\n".join(lines) + "\n"

    npu_note = (f"npu rows: estimated as {num(npu['a'], 4)} x task + {num(npu['b'], 4)} x "
                "NPU_load of the N rows at the same host level (fit to calibration/YOLOv3_*.csv, "
                "docs/profiles.md); the raw N task rows time a layer run alone on the NPU, "
                "transfers in and out included")
    for graph, stem in ROCK_MODELS.items():
        info = infos[graph]
        names = [l["name"] for l in info["layers"]]
        rows = []
        for letter, proc, _, _ in ROCK_PROCS:
            if letter == "N":
                continue
            fh = str(HOST_TOP) if letter == "G" else "-1"
            for level, mhz in enumerate(ROCK_FREQS[letter]):
                for i, name in enumerate(names):
                    key = (graph, letter, str(level), fh, i, "task")
                    if data.has(*key):
                        rows.append([name, proc, str(mhz), data.rows[key][0]])
        has_npu = any(k[0] == graph and k[1] == "N" for k in data.rows)
        if has_npu:
            for level, mhz in enumerate(ROCK_FREQS["B"]):
                h = str(level)
                for i, name in enumerate(names):
                    if data.has(graph, "N", h, h, i, "task"):
                        t = npu["a"] * data.time(graph, "N", h, h, i, "task") + \
                            npu["b"] * data.time(graph, "N", h, h, i, "NPU_load")
                        rows.append([name, "npu", str(mhz), num(t, 5)])
        header = [
            f"source: measured on a Rock Pi N10 (RK3399Pro) by {UPSTREAM}, Profiling/Data/"
            f"Layers.csv (graph {graph}, metric task; data/rock-pi-n10/Layers.csv)",
            "converted by scripts/convert-board-data.py; gpu rows with the host CPU at its top "
            "level (Freq_Host 7); threads: all the cluster's cores, as measured",
        ]
        if has_npu:
            header.append(npu_note)
        files[f"{stem}.csv"] = profile_csv(header, rows)

        trows = []
        for (g, layer, src, dst), t in sorted(transfers.items(),
                                              key=lambda kv: (kv[0][1], kv[0][2], kv[0][3])):
            if g == graph:
                trows.append([names[layer], LETTER[src], LETTER[dst], t])
        trows += stage_rows(info, ["big", "little", "gpu"])
        theader = [
            f"source: measured on a Rock Pi N10 (RK3399Pro) by {UPSTREAM}, Profiling/Data/"
            f"Transfers.csv (graph {graph}; data/rock-pi-n10/Transfers.csv): time to "
            "move the layer's output from `from` to `to`, at the top DVFS levels",
            "the last rows (mean 0: input from the host, final output to the host) are not "
            "measurements: the board's task_time excludes its input and output stages (Layers.csv "
            "`in`/`out`), so hetmap's latency does too",
        ]
        files[f"{stem}.transfers.csv"] = transfers_csv(theader, trows)
    for name, text in files.items():
        write_atomic(os.path.join(out_dir, "rock-pi-n10", name), text)
    return links, npu


# --- Rock Pi: estimated NPU rows for the networks without N rows (opt-in, not shipped) --------

NPU_ESTIMATE_FROM = ["mobilenetv1", "yolov3"]  # the stems whose npu rows derive from N rows


def estimate_npu_variant(hetmap, models_dir, prof_dir, dest):
    """`--estimate-npu DEST`: copies the Rock Pi folder `prof_dir` to DEST and gives the
    profiles without N rows (alexnet, googlenet, resnet50, squeezenet) npu rows ESTIMATED by
    `hetmap estimate` (t_ms = c . (overhead, GMACs, MB), c >= 0 fitted by NNLS on relative error
    per host level to the npu rows of MobileNetV1 and YOLOv3). Never written to the shipped
    folder: with the shipped npu link, the whole-NPU calibration rows of Alex/Google/SqueezeV1
    are predicted far too slow (docs/profiles.md, "Estimated NPU rows"). Returns the per-level
    in-sample MAPE range of the npu fits and their leave-one-network-out MAPE."""
    import shutil
    if os.path.abspath(dest) == os.path.abspath(prof_dir):
        fail("--estimate-npu: the destination must not be the shipped profiles folder")
    os.makedirs(dest, exist_ok=True)
    for name in sorted(os.listdir(prof_dir)):
        if name.endswith((".csv", ".yaml")):
            shutil.copyfile(os.path.join(prof_dir, name), os.path.join(dest, name))
    platform = os.path.join(dest, "platform.yaml")
    calib = []
    for stem in NPU_ESTIMATE_FROM:
        calib += ["--calibrate", f"{os.path.join(models_dir, stem + '.yaml')}:"
                                 f"{os.path.join(dest, stem + '.csv')}"]
    stats = None
    for graph, stem in ROCK_MODELS.items():
        if stem in NPU_ESTIMATE_FROM:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, stem + ".csv")
            p = subprocess.run([hetmap, "estimate", "-m", os.path.join(models_dir, stem + ".yaml"),
                                "-p", platform, *calib, "--processors", "npu",
                                "--cross-validate", "-o", out], capture_output=True, text=True)
            if p.returncode != 0:
                fail(p.stderr.strip() or f"{hetmap} estimate for {stem} failed")
            with open(out) as f:
                est = [r.split(",") for r in f.read().splitlines()[2:]]
        mape = [float(l.split()[-2].rstrip("%")) for l in p.stdout.splitlines()
                if l.startswith("npu@")]
        cv = [l.split() for l in p.stdout.splitlines() if l.startswith("all ")]
        stats = (min(mape), max(mape), cv[0][-1] if cv else "-")
        path = os.path.join(dest, stem + ".csv")
        with open(path) as f:
            text = f.read()
        lines = text.splitlines()
        header = [l for l in lines if l.startswith("#")]
        body = [l for l in lines if not l.startswith("#")]
        header.append(
            f"# npu rows: estimated (not measured: Layers.csv has no N rows for {graph}) by "
            "hetmap estimate, t_ms = c . (overhead, GMACs, MB moved) per host level, c >= 0 "
            "fitted by non-negative least squares on relative error to the npu rows of "
            f"{' and '.join(NPU_ESTIMATE_FROM)} (themselves estimated from their N rows); "
            f"in-sample MAPE {stats[0]:.0f}-{stats[1]:.0f}%, leave-one-network-out {stats[2]} "
            "(docs/profiles.md, Estimated NPU rows); an experiment, not a shipped profile")
        body += [f"{r[0]},{r[1]},{r[2]},{r[4]}" for r in est if r[1] == "npu"]
        write_atomic(path, "\n".join(header + body) + "\n")
    return stats


def convert_vim3(data_dir, out_dir, models_dir, hetmap, rock_links):
    layers_path = os.path.join(data_dir, "khadas-vim3", "Layers.csv")
    data = Layers(layers_path)
    infos = {g: model_info(hetmap, models_dir, s) for g, s in VIM3_MODELS.items()}
    for graph, info in infos.items():
        check_layers(info, data, graph, layers_path)
    acc = {}
    for (graph, comp, f, fh, layer, metric), (t, p, _) in data.rows.items():
        if metric == "task" and p:
            e, s = acc.get(comp, (0.0, 0.0))
            acc[comp] = (e + float(p) * float(t), s + float(t))
    lowest_w = min(float(p) for (_, p, _) in data.rows.values() if p) / 1000.0
    idle_w = lowest_w / len(VIM3_PROCS)
    lines = [
        "# Khadas VIM3 (Amlogic A311D), converted from measured data by",
        "# scripts/convert-board-data.py; do not edit by hand. Method: docs/profiles.md.",
        "name: a311d",
        "host: big",
        "processors:",
    ]
    for letter, name, kind, cores, mhz in VIM3_PROCS:
        e, s = acc[letter]
        act = e / s / 1000.0 - idle_w * (len(VIM3_PROCS) - 1)
        core = f", cores: {cores}" if cores else ""
        lines.append(f"  - {{name: {name}, kind: {kind}{core}, freqs_mhz: [{mhz}], active_w: "
                     f"{num(act, 4)}, idle_w: {num(idle_w, 4)}}}")
    lines.append("links:  # estimated: the Rock Pi N10's fits (the VIM3 data has no copy times)")
    for (a, b), l in rock_links.items():
        lines.append(f"  - {{between: [{LETTER[a]}, {LETTER[b]}], latency_ms: "
                     f"{num(l['latency_ms'], 4)}, gbytes_per_s: {num(l['gbytes_per_s'], 4)}}}")
    lines.append("contention: 1.0")
    lines.append(
        'source: "measured on a Khadas VIM3 by ' + UPSTREAM + ' (Profiling/ParaPipe/Profiling/'
        "Analyze/Layers.csv; data/khadas-vim3), at the maximum frequencies only. "
        "freqs_mhz: A311D top operating points (Linux meson-g12b-a311d.dtsi). active_w/idle_w: "
        "whole-board power while the processor runs layers (time-weighted mean of the task rows' "
        f"Power) minus the others' idle_w; idle_w: estimated ({num(lowest_w, 4)} W, the lowest "
        "board power in the file, split evenly). links: estimated, copied from the Rock Pi N10 "
        "fits to Transfers.csv (no VIM3 copy measurements exist). contention 1.0: layers were "
        'measured one at a time."')
    files = {"platform.yaml": "\n".join(lines) + "\n"}
    for graph, stem in VIM3_MODELS.items():
        info = infos[graph]
        names = [l["name"] for l in info["layers"]]
        rows = []
        for letter, proc, _, _, mhz in VIM3_PROCS:
            for i, name in enumerate(names):
                key = (graph, letter, "max", "max", i, "task")
                if data.has(*key):
                    rows.append([name, proc, str(mhz), data.rows[key][0]])
        header = [
            f"source: measured on a Khadas VIM3 (A311D) by {UPSTREAM}, Profiling/ParaPipe/"
            f"Profiling/Analyze/Layers.csv (graph {graph}, metric task, maximum frequencies; "
            "data/khadas-vim3/Layers.csv)",
            "converted by scripts/convert-board-data.py; threads: all the cluster's cores",
        ]
        files[f"{stem}.csv"] = profile_csv(header, rows)
        files[f"{stem}.transfers.csv"] = transfers_csv(
            [f"source: the stage split of the Khadas VIM3 measurements by {UPSTREAM} "
             "(Profiling/ParaPipe/Profiling/Analyze/Layers.csv; data/khadas-vim3/"
             "Layers.csv), not copy measurements: the board's task time excludes its input and "
             "output stages (metrics `in`/`out`), so these copies cost 0; the data has no other "
             "copy times (other copies use the platform's estimated links)"],
            stage_rows(info, ["big", "little", "gpu"]))
    for name, text in files.items():
        write_atomic(os.path.join(out_dir, "khadas-vim3", name), text)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="data", help="the measured board data (default: data)")
    ap.add_argument("--out", default=os.path.join(root, "profiles"), help="profiles folder")
    ap.add_argument("--models", default=os.path.join(root, "models"), help="models folder")
    ap.add_argument("--hetmap", default=os.environ.get("HETMAP", os.path.join(root, "build",
                                                                                "hetmap")),
                    help="the hetmap binary (for `hetmap info`)")
    ap.add_argument("--estimate-npu", metavar="DIR",
                    help="also write a copy of rock-pi-n10/ to DIR whose alexnet, googlenet, "
                         "resnet50 and squeezenet get estimated npu rows (an experiment; "
                         "docs/profiles.md)")
    args = ap.parse_args()
    try:
        links, npu = convert_rock_pi(args.data, args.out, args.models, args.hetmap)
        convert_vim3(args.data, args.out, args.models, args.hetmap, links)
        if args.estimate_npu:
            lo, hi, cv = estimate_npu_variant(args.hetmap, args.models,
                                              os.path.join(args.out, "rock-pi-n10"),
                                              args.estimate_npu)
            print(f"wrote {args.estimate_npu} (estimated npu rows: in-sample MAPE "
                  f"{lo:.0f}-{hi:.0f}%, leave-one-network-out {cv})")
    except ConvertError as e:
        print(f"convert-board-data: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}/rock-pi-n10 and {args.out}/khadas-vim3 "
          f"(npu fit: a={num(npu['a'], 4)} b={num(npu['b'], 4)} "
          f"{num(npu['gbytes_per_s'] * 1000, 4)} MB/s; MAPE {num(npu['mape'], 3)}% over "
          f"{npu['rows']} mappings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

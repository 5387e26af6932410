#!/usr/bin/env python3
"""Converts the EE-ResNet18 stage latencies of the Rock Pi N10 into a hetmap profile.

    scripts/convert-ee-resnet18.py [STAGES_CSV] [OUT_CSV]

Defaults: data/ee-resnet18/stages.csv (relative to the repository root) and
profiles/rock-pi-n10/ee-resnet18.csv. The source file (github.com/Saeed-Khalilian/EEDNN_on_HMPSoCs,
python/GA.py) holds one latency per stage (4 backbone blocks, 3 exit branches) and processor
(B = big Cortex-A72 cluster, L = LITTLE Cortex-A53 cluster, G = Mali-T860 GPU); hetmap's
ee-resnet18 model has one `block` layer per stage with the names below.

The source gives no frequencies, thread counts, deviations or sample counts: those columns stay
empty, which hetmap reads as the processor's highest DVFS level and all its cores (the setting
the source's GA assumes; lower levels are then scaled by f_max / f as for any profile row).
No transfers file is written: copies between processors cost what the platform's links say.
Standard library only; the output is written atomically.
"""
import csv
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_IN = os.path.join(ROOT, "data", "ee-resnet18", "stages.csv")
DEFAULT_OUT = os.path.join(ROOT, "profiles", "rock-pi-n10", "ee-resnet18.csv")

# Source column -> hetmap layer (models/ee-resnet18.yaml), in the model's declaration order.
STAGES = [
    ("g0_block1", "block1"),
    ("g1_exit1", "exit1_branch"),
    ("g2_block2", "block2"),
    ("g3_exit2", "exit2_branch"),
    ("g4_block3", "block3"),
    ("g5_exit3", "exit3_branch"),
    ("g6_block4_final", "block4"),
]
# Source component letter -> processor of profiles/rock-pi-n10/platform.yaml.
PROCESSORS = {"B": "big", "L": "little", "G": "gpu"}


def fail(path, line, what):
    sys.stderr.write(f"convert-ee-resnet18: error: {path}:{line}: {what}\n")
    sys.exit(2)


def read_stages(path):
    """Returns {component letter: {source column: ms}} from the source CSV."""
    try:
        with open(path, newline="") as f:
            lines = f.read().splitlines()
    except OSError as e:
        fail(path, 0, f"cannot read: {e.strerror}")
    header, rows = None, {}
    for number, text in enumerate(lines, start=1):
        if not text.strip() or text.startswith("#"):
            continue
        cells = next(csv.reader([text]))
        if header is None:
            header = cells
            missing = [c for c in ["proc"] + [s for s, _ in STAGES] if c not in header]
            if missing:
                fail(path, number, f"expected columns proc and {', '.join(s for s, _ in STAGES)}; "
                                   f"missing {', '.join(missing)}")
            continue
        if len(cells) != len(header):
            fail(path, number, f"expected {len(header)} cells, got {len(cells)}")
        row = dict(zip(header, cells))
        proc = row["proc"]
        if proc not in PROCESSORS:
            fail(path, number, f"unknown component '{proc}' (expected one of B, L, G)")
        if proc in rows:
            fail(path, number, f"component '{proc}' appears twice")
        times = {}
        for stage, _ in STAGES:
            try:
                ms = float(row[stage])
            except ValueError:
                fail(path, number, f"{stage}: expected a time in ms, got '{row[stage]}'")
            if not ms > 0:
                fail(path, number, f"{stage}: expected a positive time, got {ms}")
            times[stage] = ms
        rows[proc] = times
    if header is None:
        fail(path, 0, "no header line")
    for proc in PROCESSORS:
        if proc not in rows:
            fail(path, 0, f"no row for component '{proc}'")
    return rows


def main(argv):
    if len(argv) > 3 or (len(argv) > 1 and argv[1] in ("-h", "--help")):
        sys.stdout.write(__doc__)
        return 0 if len(argv) > 1 and argv[1] in ("-h", "--help") else 2
    src = argv[1] if len(argv) > 1 else DEFAULT_IN
    out = argv[2] if len(argv) > 2 else DEFAULT_OUT
    rows = read_stages(src)

    text = [
        "# source: measured on the Rock Pi N10 (RK3399Pro), github.com/Saeed-Khalilian/"
        "EEDNN_on_HMPSoCs python/GA.py (data/ee-resnet18/stages.csv): one latency per backbone "
        "block / exit branch on B (big), L (little), G (gpu); frequencies and threads not given "
        "(empty = highest DVFS level, all cores); converted by scripts/convert-ee-resnet18.py",
        "layer,processor,freq_mhz,threads,mean_ms,std_ms,p99_ms,samples",
    ]
    for stage, layer in STAGES:
        for letter, proc in PROCESSORS.items():
            text.append(f"{layer},{proc},,,{rows[letter][stage]:g},,,")

    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(out)), prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(text) + "\n")
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

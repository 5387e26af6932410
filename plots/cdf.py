"""Latency CDF of a discrete-event simulation (latencies.csv: input,latency_ms)."""
import sys

from common import number, plt, read_csv, save


def plot(latencies_csv, out_without_ext):
    _, rows = read_csv(latencies_csv)
    lat = sorted(number(r["latency_ms"]) for r in rows)
    n = len(lat)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.step(lat, [(i + 1) / n for i in range(n)], where="post")
    for q in (0.5, 0.95, 0.99):
        v = lat[min(n - 1, int(q * n))]
        ax.axvline(v, color="gray", linestyle=":", linewidth=0.8)
        ax.annotate(f"p{int(q * 100)} = {v:.2f} ms", (v, q), fontsize=7, xytext=(3, -10),
                    textcoords="offset points")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("share of inputs")
    ax.set_title(f"Latency CDF over {n} inputs")
    ax.grid(True, alpha=0.3)
    return save(fig, out_without_ext)


if __name__ == "__main__":
    print(plot(sys.argv[1], sys.argv[2]))

"""Small SVG pictures for the CAP report, written by hand (no plotting library on the machines
the tests run on)."""
import html
from collections import defaultdict

COLORS = {"ok": "#4caf50", "fail": "#e53935", "info": "#fb8c00"}


def timeline(events, faults, title, bin_ms=250, width=640, height=160) -> str:
    """Operations completed per time bin, stacked by outcome, with fault periods (faults.json
    entries) shaded: the picture of one run in the manner of Jepsen's timelines."""
    done = [e for e in events if e["type"] != "invoke" and e.get("process") != "final"]
    if not done:
        return _svg(width, height, [_text(10, 20, f"{title}: no operations")])
    t0 = min(e["t_us"] for e in done)
    bins = defaultdict(lambda: defaultdict(int))
    for e in done:
        bins[(e["t_us"] - t0) // (bin_ms * 1000)][e["type"]] += 1
    n_bins = max(bins) + 1
    peak = max(sum(b.values()) for b in bins.values())
    left, top, plot_w, plot_h = 40, 24, width - 50, height - 44
    bw = plot_w / n_bins
    parts = [_text(left, 16, title)]
    for fault in faults:
        s, e, label = fault["start_us"], fault["end_us"], fault["label"]
        x0 = left + (s - t0) / 1000 / bin_ms * bw
        x1 = left + (e - t0) / 1000 / bin_ms * bw
        parts.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(1, x1 - x0):.1f}" '
                     f'height="{plot_h}" fill="#9e9e9e" fill-opacity="0.3"/>')
        parts.append(_text(x0 + 2, top + 12, label, size=10))
    for i in range(n_bins):
        y = top + plot_h
        for kind in ("ok", "info", "fail"):
            h = bins[i][kind] / peak * plot_h if peak else 0
            if h > 0:
                y -= h
                parts.append(f'<rect x="{left + i * bw:.1f}" y="{y:.1f}" width="{bw:.1f}" '
                             f'height="{h:.1f}" fill="{COLORS[kind]}"/>')
    parts.append(_text(2, top + 10, str(peak), size=10))
    parts.append(_text(left, height - 4, f"0 s ... {n_bins * bin_ms / 1000:.0f} s; ops per "
                       f"{bin_ms} ms: ok green, info (in doubt) orange, fail red; faults grey",
                       size=10))
    return _svg(width, height, parts)


def heatmap(rows, cols, value, label, title, cell_w=92, cell_h=34) -> str:
    """A grid coloured by value(row, col) in [0, 1] (red 0 .. green 1, grey None), each cell
    written with label(row, col)."""
    left, top = 96, 40
    width, height = left + cell_w * len(cols) + 10, top + cell_h * len(rows) + 10
    parts = [_text(4, 16, title)]
    for j, c in enumerate(cols):
        parts.append(_text(left + j * cell_w + 2, top - 6, c, size=10))
    for i, r in enumerate(rows):
        parts.append(_text(4, top + i * cell_h + cell_h / 2 + 4, r, size=11))
        for j, c in enumerate(cols):
            v = value(r, c)
            fill = "#bdbdbd" if v is None else _red_green(v)
            x, y = left + j * cell_w, top + i * cell_h
            parts.append(f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                         f'fill="{fill}"/>')
            parts.append(_text(x + 4, y + cell_h / 2 + 4, label(r, c), size=10))
    return _svg(width, height, parts)


def _red_green(v):
    v = max(0.0, min(1.0, v))
    return f"rgb({int(229 - 153 * v)},{int(57 + 118 * v)},{int(53 + 27 * v)})"


def _text(x, y, s, size=12):
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-family="sans-serif" font-size="{size}">'
            f'{html.escape(str(s))}</text>')


def _svg(w, h, parts):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}">\n<rect width="{w}" height="{h}" fill="white"/>\n'
            + "\n".join(parts) + "\n</svg>\n")

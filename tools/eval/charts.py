#!/usr/bin/python3
"""Charts for `standin eval`: one PNG per metric, methods side by side, plus an overview.

  standin-eval-charts EVAL_JSON OUT_DIR

Reads the eval.json that `standin eval` writes (run by it automatically when Python 3 and
matplotlib are installed; Debian: python3-matplotlib).
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {"original": "#888888", "generate": "#2a9d8f", "blur": "#e9c46a",
           "pixelate": "#f4a261", "solid": "#264653"}


def get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def metrics(ev):
    """(file stem, title, y label, [(series name, path)], chance line, higher is better, value
    kind)."""
    recs = ev.get("recognisers", [])
    far = ev.get("false_accept_rate", 0.01)
    first = next(iter(ev["methods"].values()))
    chance_r1 = get(first, "reidentification", recs[0], "chance_rank1") if recs else None
    # The last field: how a bar's value is written on it ("share": as a percentage).
    out = [
        ("detection_retention", "Detection AP retention (higher keeps faces detectable)",
         "AP anonymized / AP original", [("", ("detection", "ap_retention"))], None, True, "share"),
        ("reid_verified", "Re-identification: verified as the same person (lower is better)",
         "share of genuine pairs accepted",
         [(r, ("reidentification", r, "verified")) for r in recs], far, False, "share"),
        ("reid_rank1", "Re-identification: rank-1 identification (lower is better)",
         "share identified", [(r, ("reidentification", r, "rank1")) for r in recs], chance_r1,
         False, "share"),
        ("pose", "Pose kept: landmark error vs original (lower is better)",
         "mean error / inter-ocular distance", [("", ("pose", "landmark_nme"))], None, False, "number"),
        ("head_pose", "Head pose kept: error vs original (lower is better)", "degrees",
         [(a, ("pose", "head_pose_error_deg", a)) for a in ("yaw", "pitch", "roll")], None, False,
         "number"),
        ("same_photo", "The same photo: accepted as its own original (lower is better)",
         "share of held-out faces", [(r, ("same_photo", r, "verified")) for r in recs], far, False,
         "share"),
        ("age", "Age kept: |predicted age difference| (lower is better)", "years",
         [("", ("attributes", "age_mae_years"))], None, False, "number"),
        ("gender_expression", "Attributes kept (higher is better)", "agreement with original",
         [("gender", ("attributes", "gender_agreement")),
          ("expression", ("attributes", "expression_agreement"))], None, True, "share"),
        ("realism", "Realism: Fréchet distance to real faces (lower is better)",
         "Fréchet distance", [(r, ("realism", "frechet", r)) for r in recs], None, False, "number"),
        ("detector_found", "Faces found by the reference detector (higher is better)",
         "share of held-out faces", [("", ("realism", "reference_detector_found"))], None, True, "share"),
        ("speed", "Speed of the method per face (lower is faster)", "ms per face",
         [("", ("speed", "ms_per_face"))], None, False, "number"),
    ]
    return out


def label(y, kind):
    """A bar's value as written on it: shares as percentages (2.5%), other figures to 3 digits."""
    return f"{100 * y:.1f}%" if kind == "share" else f"{y:.3g}"


def bars(ax, ev, series, chance, title, ylabel, kind="number"):
    # Only the methods this panel has a figure for (the stranger control has re-identification
    # alone).
    order = [m for m in ev.get("method_order", list(ev["methods"]))
             if any(get(ev["methods"][m], *path) is not None for _, path in series)]
    width = 0.8 / max(1, len(series))
    # Side by side, three series' labels overlap unless they stand upright.
    upright = len(series) > 2
    for k, (name, path) in enumerate(series):
        xs, ys, cs = [], [], []
        for i, m in enumerate(order):
            v = get(ev["methods"][m], *path)
            if v is None:
                continue
            xs.append(i + (k - (len(series) - 1) / 2) * width)
            ys.append(v)
            cs.append(COLOURS.get(m, "#999999"))
        b = ax.bar(xs, ys, width * 0.95, color=cs, edgecolor="black", linewidth=0.5,
                   hatch=["", "//", ".."][k % 3], label=name or None)
        for rect, y in zip(b, ys):
            ax.annotate(label(y, kind), (rect.get_x() + rect.get_width() / 2, y), ha="center",
                        va="bottom", fontsize=6 if upright else 7, rotation=90 if upright else 0)
    if upright:
        ax.set_ylim(top=ax.get_ylim()[1] * 1.15)  # room for the upright labels of the tallest bars
    if chance is not None:
        ax.axhline(chance, color="red", linestyle="--", linewidth=1,
                   label=f"chance {label(chance, kind)}")
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(order, rotation=20, ha="right", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=8)
    if len(series) > 1 or chance is not None:
        ax.legend(fontsize=7)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        ev = json.load(f)
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    ms = [m for m in metrics(ev)
          if any(get(v, *p) is not None for v in ev["methods"].values() for _, p in m[3])]
    for stem, title, ylabel, series, chance, _, kind in ms:
        fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
        bars(ax, ev, series, chance, title, ylabel, kind)
        fig.tight_layout()
        fig.savefig(os.path.join(out, f"{stem}.png"))
        plt.close(fig)
    cols = 3
    rows = (len(ms) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.2 * rows), dpi=90, squeeze=False)
    for ax, (stem, title, ylabel, series, chance, _, kind) in zip(axes.flat, ms):
        bars(ax, ev, series, chance, title, ylabel, kind)
    for ax in list(axes.flat)[len(ms):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "overview.png"))
    plt.close(fig)
    print(f"{len(ms)} charts in {out}")


if __name__ == "__main__":
    main()

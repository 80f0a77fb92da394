#!/usr/bin/python3
"""retrain_task.py — an image-folder task for `camclass retrain`, built from Debian's Fashion-MNIST.

    retrain_task.py OUT [--classes 0,1,2,3,4] [--per-class 50] [--split train] [--seed 1]

Writes OUT/<label>/NNNNN.jpg: per class, the first --per-class items of a seeded shuffle of the
split, rendered as the demo camera frames (fashion_mnist.render_frame: 640×480, item centred on
black). Folder names are the class names made file-safe ("t_shirt_top"). Needs numpy and PIL.
"""
import argparse
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402


def folder_name(label):
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--classes", default="0,1,2,3,4")
    p.add_argument("--per-class", type=int, default=50)
    p.add_argument("--split", default="train", choices=["train", "t10k"])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data", default=fashion_mnist.DEFAULT_DIR)
    a = p.parse_args(argv)
    items, labels = fashion_mnist.load(a.data, a.split)
    order = np.random.default_rng(a.seed).permutation(len(labels))
    for c in [int(v) for v in a.classes.split(",")]:
        d = os.path.join(a.out, folder_name(fashion_mnist.LABELS[c]))
        os.makedirs(d, exist_ok=True)
        picked = [i for i in order if labels[i] == c][:a.per_class]
        for i in picked:
            fashion_mnist.render_frame(items[i]).save(os.path.join(d, f"{i:05d}.jpg"), quality=90)
    print(f"retrain_task: {a.per_class} images for each of classes {a.classes} in {a.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

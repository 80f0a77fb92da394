#!/usr/bin/python3
"""synth_folder.py — write a small generated image folder DIR/<label>/*.jpg for tests of tools/train.

    tools/train/synth_folder.py DIR [--per-class N] [--size S] [--seed K]

Three classes a tiny ConvNet can tell apart after one epoch: a disc, a square, horizontal
stripes — random position, size, colours and noise, half of them PNG so both decoders are used.
"""
import argparse
import os

import numpy as np
from PIL import Image, ImageDraw


def draw(kind, size, rng):
    bg = tuple(int(v) for v in rng.randint(0, 90, 3))
    fg = tuple(int(v) for v in rng.randint(150, 256, 3))
    im = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(im)
    r = rng.randint(size // 6, size // 3)
    cx, cy = rng.randint(r, size - r), rng.randint(r, size - r)
    if kind == "disc":
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fg)
    elif kind == "square":
        d.rectangle((cx - r, cy - r, cx + r, cy + r), fill=fg)
    else:
        step = rng.randint(4, 9)
        for y in range(rng.randint(0, step), size, 2 * step):
            d.rectangle((0, y, size, y + step - 1), fill=fg)
    arr = np.asarray(im, dtype=np.int16) + rng.randint(-12, 13, (size, size, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--per-class", type=int, default=30)
    p.add_argument("--size", type=int, default=80)
    p.add_argument("--seed", type=int, default=3)
    a = p.parse_args()
    rng = np.random.RandomState(a.seed)
    for kind in ("disc", "square", "stripes"):
        os.makedirs(os.path.join(a.dir, kind), exist_ok=True)
        for i in range(a.per_class):
            im = draw(kind, a.size, rng)
            ext = "png" if i % 2 else "jpg"
            im.save(os.path.join(a.dir, kind, f"{i:03d}.{ext}"))


if __name__ == "__main__":
    main()

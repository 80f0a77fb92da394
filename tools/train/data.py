"""data.py — training data for tools/train: an image folder or Fashion-MNIST, plus augmentation.

Everything is held in memory as uint8 NHWC arrays already at the model's input size (what the
camera path would hand the model), and augmented per batch on the fly with one batched
affine resample (torch grid_sample), which is cheap on a CPU. Fashion-MNIST items are kept at
28×28 and placed into the frame by the same affine, so training sees the item at the scales,
offsets and aspect ratios a camera (or the demo clip through a centre crop or a stretch) shows.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import fashion_mnist

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp")


def load_folder(directory, size, gray):
    """(images N×size×size×C uint8, labels N int64, class names) from DIR/<label>/*.jpg|png."""
    classes = sorted(d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)))
    if len(classes) < 2:
        raise SystemExit(f"train: {directory}: need at least two class folders, found {len(classes)}")
    images, labels = [], []
    for idx, name in enumerate(classes):
        files = sorted(f for f in os.listdir(os.path.join(directory, name))
                       if f.lower().endswith(IMAGE_EXTS))
        if not files:
            raise SystemExit(f"train: {directory}/{name}: no .jpg/.png images")
        for f in files:
            path = os.path.join(directory, name, f)
            try:
                with Image.open(path) as im:
                    im = im.convert("L" if gray else "RGB")
                    view = fashion_mnist.camera_view(im, size)
            except OSError as e:
                raise SystemExit(f"train: {path}: cannot read image: {e}")
            arr = np.asarray(view, dtype=np.uint8)
            images.append(arr[:, :, None] if gray else arr)
            labels.append(idx)
    return np.stack(images), np.asarray(labels, dtype=np.int64), classes


def split_holdout(n, fraction, seed):
    """Shuffled (train indices, held-out indices), at least one held out when fraction > 0."""
    order = np.random.RandomState(seed).permutation(n)
    k = int(round(n * fraction))
    if fraction > 0:
        k = max(1, k)
    return order[k:], order[:k]


def to_float(batch_u8):
    """uint8 NHWC numpy → float NCHW tensor in [0, 1]."""
    return torch.from_numpy(batch_u8).permute(0, 3, 1, 2).float().div_(255.0)


def _affine(src, out_size, scale, aspect, tx, ty, flip):
    """Resample src (N,C,h,w) into (N,C,out,out): the source spans `scale` of the output
    height and scale×aspect of its width, centred at (tx, ty) (normalized), zeros outside."""
    n = src.shape[0]
    sx = scale * aspect
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = torch.where(flip, -1.0 / sx, 1.0 / sx)
    theta[:, 0, 2] = -tx / sx
    theta[:, 1, 1] = 1.0 / scale
    theta[:, 1, 2] = -ty / scale
    grid = F.affine_grid(theta, (n, src.shape[1], out_size, out_size), align_corners=False)
    return F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _photometric(x, gen):
    """Brightness/contrast jitter, sensor noise, then back onto the 8-bit pixel grid."""
    n = x.shape[0]
    gain = torch.empty(n, 1, 1, 1).uniform_(0.75, 1.15, generator=gen)
    offset = torch.empty(n, 1, 1, 1).uniform_(-0.04, 0.06, generator=gen)
    x = x * gain + offset
    x = x + torch.randn(x.shape, generator=gen) * 0.015
    return torch.round(x.clamp_(0.0, 1.0) * 255.0) / 255.0


def augment_items(items_u8, size, channels, gen):
    """Fashion-MNIST style items (N×28×28 uint8, black background) → augmented camera views."""
    n = items_u8.shape[0]
    src = torch.from_numpy(items_u8).float().div_(255.0).unsqueeze(1)
    # The demo shows the item at 448/480 = 0.93 of the view; cameras vary: 0.75–1.0.
    scale = torch.empty(n).uniform_(0.75, 1.0, generator=gen)
    # 1.0 = centre crop; 0.75 = a 4:3 frame stretched to a square.
    aspect = torch.empty(n).uniform_(0.74, 1.05, generator=gen)
    slack = (1.0 - scale).clamp(min=0.0) * 0.5 + 0.05
    tx = (torch.rand(n, generator=gen) * 2 - 1) * slack
    ty = (torch.rand(n, generator=gen) * 2 - 1) * slack
    flip = torch.rand(n, generator=gen) < 0.5
    x = _affine(src, size, scale, aspect, tx, ty, flip)
    x = _photometric(x, gen)
    return x.expand(-1, channels, -1, -1).contiguous()


def augment_views(views_u8, gen):
    """Camera views (N×H×W×C uint8) → mild zoom/shift/flip + photometric jitter."""
    x = to_float(views_u8)
    n = x.shape[0]
    scale = torch.empty(n).uniform_(1.0, 1.2, generator=gen)
    aspect = torch.empty(n).uniform_(0.95, 1.05, generator=gen)
    tx = (torch.rand(n, generator=gen) * 2 - 1) * (scale - 1.0) / 2
    ty = (torch.rand(n, generator=gen) * 2 - 1) * (scale - 1.0) / 2
    flip = torch.rand(n, generator=gen) < 0.5
    x = _affine(x, x.shape[2], scale, aspect, tx, ty, flip)
    return _photometric(x, gen)


def fashion_views(items_u8, size, channels):
    """Exactly what the demo path shows the model for each item (uint8 NHWC)."""
    out = np.empty((items_u8.shape[0], size, size, channels), dtype=np.uint8)
    for i, item in enumerate(items_u8):
        view = np.asarray(fashion_mnist.camera_view(fashion_mnist.render_frame(item), size))
        out[i] = view[:, :, :channels] if channels == 3 else view[:, :, :1]
    return out

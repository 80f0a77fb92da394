#!/usr/bin/python3
"""train.py — train a small MobileNet-style classifier and export it as a full-integer int8 .tflite.

    tools/train/train.py --data DIR --out model.tflite [--size 96] [--gray] [--epochs N]
        [--batch B] [--lr LR] [--width-mult W] [--val-split 0.1] [--seed S] [--labels-out L]
        [--camclass build/camclass] [--eval-limit N] [--float-io]
    tools/train/train.py --fashion-mnist [DIR] --out fashion.tflite ...

DIR/<label>/*.jpg|png is an image folder (one sub-folder per class, sorted names = class order);
--fashion-mnist trains on Debian's dataset-fashion-mnist idx files instead (held-out = its
10,000-image test set, rendered exactly as the demo clip shows it). Uses Debian's python3-torch
on the CPU; no TensorFlow. The steps: train (float), fold BatchNorm + quantize (quantize.py),
write the .tflite (tflite_writer.py) and labels, then measure float vs int8 accuracy on the
held-out split — int8 through our own engine (`camclass infer`), not through PyTorch.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import fashion_mnist  # noqa: E402
from model import SmallMobileNet  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="image folder DIR/<label>/*.jpg|png")
    src.add_argument("--fashion-mnist", nargs="?", const=fashion_mnist.DEFAULT_DIR, metavar="DIR",
                     help=f"train on Fashion-MNIST idx files (default {fashion_mnist.DEFAULT_DIR})")
    p.add_argument("--out", required=True, help="output .tflite")
    p.add_argument("--labels-out", help="labels file (default: labels.txt beside --out)")
    p.add_argument("--size", type=int, default=96, help="input height = width (default 96)")
    p.add_argument("--gray", action="store_true", help="one-channel input (default RGB)")
    p.add_argument("--float-io", action="store_true",
                   help="float32 input/output around the int8 body (QUANTIZE first, DEQUANTIZE "
                        "last), as the TFLite converter's default full-integer recipe writes")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--width-mult", type=float, default=1.0)
    p.add_argument("--val-split", type=float, default=0.1, help="held-out fraction (--data)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: on a busy machine more threads spin-wait)")
    p.add_argument("--calib", type=int, default=500, help="calibration images (default 500)")
    p.add_argument("--camclass", default=os.environ.get("CAMCLASS",
                   os.path.join(os.environ.get("CAMCLASS_BUILD", "build"), "camclass")),
                   help="camclass binary for the int8 accuracy report (default build/camclass)")
    p.add_argument("--eval-limit", type=int, default=0,
                   help="int8 report on at most N held-out images (0 = all)")
    p.add_argument("--checkpoint", help="save the float model here (default: OUT.pt)")
    p.add_argument("--resume", help="start from this float checkpoint (with --epochs 0: export only)")
    a = p.parse_args(argv)
    if a.size < 8 or a.size > 512:
        p.error("--size must be 8..512")
    if not 0.0 <= a.val_split < 1.0:
        p.error("--val-split must be in [0, 1)")
    return a


class Dataset:
    """Training source (augmented batches) and fixed held-out views."""

    def __init__(self, args):
        self.channels = 1 if args.gray else 3
        self.size = args.size
        if args.fashion_mnist:
            self.items, self.labels = fashion_mnist.load(args.fashion_mnist, "train")
            self.labels = self.labels.astype(np.int64)
            test_items, test_labels = fashion_mnist.load(args.fashion_mnist, "t10k")
            print(f"train: rendering {len(test_items)} Fashion-MNIST test images as the demo shows them",
                  flush=True)
            self.held_x = data.fashion_views(test_items, args.size, self.channels)
            self.held_y = test_labels.astype(np.int64)
            self.classes = list(fashion_mnist.LABELS)
            self.kind = "items"
            self.held_name = "Fashion-MNIST test set"
        else:
            x, y, self.classes = data.load_folder(args.data, args.size, args.gray)
            tr, ho = data.split_holdout(len(y), args.val_split, args.seed)
            self.items, self.labels = x[tr], y[tr]
            self.held_x, self.held_y = x[ho], y[ho]
            self.kind = "views"
            self.held_name = f"held-out split ({len(ho)} images)"
        print(f"train: {len(self.labels)} training images, {len(self.held_y)} held out, "
              f"{len(self.classes)} classes", flush=True)

    def batch(self, idx, gen):
        if self.kind == "items":
            return data.augment_items(self.items[idx], self.size, self.channels, gen)
        return data.augment_views(self.items[idx], gen)


def evaluate_float(model, x_u8, y, batch=256):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            logits = model(data.to_float(x_u8[i:i + batch]))
            correct += int((logits.argmax(1).numpy() == y[i:i + batch]).sum())
    return correct / max(1, len(y))


def train(model, ds, args, ckpt=None):
    gen = torch.Generator().manual_seed(args.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    n = len(ds.labels)
    steps_per_epoch = max(1, n // args.batch)
    total = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=max(1, total),
                                                pct_start=0.15)
    rng = np.random.RandomState(args.seed)
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(n)
        t0, loss_sum, correct, seen = time.time(), 0.0, 0, 0
        for s in range(steps_per_epoch):
            idx = order[s * args.batch:(s + 1) * args.batch]
            x = ds.batch(idx, gen)
            y = torch.from_numpy(ds.labels[idx])
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += float(loss) * len(idx)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(idx)
        acc = evaluate_float(model, ds.held_x, ds.held_y)
        print(f"train: epoch {epoch + 1}/{args.epochs} loss {loss_sum / seen:.4f} "
              f"train-acc {correct / seen:.4f} held-out float acc {acc:.4f} "
              f"({time.time() - t0:.0f} s)", flush=True)
        if ckpt:  # after every epoch, so a long run that is cut short still leaves a model
            torch.save(model.state_dict(), ckpt)


def reestimate_batchnorm(model, ds, args, max_images=6400):
    """Set BatchNorm running statistics to plain averages over (augmented) training batches.

    The moving averages lag the weights; after a short run (a few dozen steps on a small folder)
    they are still near their initial values, and the folded, quantized model would be wrong."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None                      # cumulative average
    gen = torch.Generator().manual_seed(args.seed + 3)
    order = np.random.RandomState(args.seed + 3).permutation(len(ds.labels))[:max_images]
    model.train()
    with torch.no_grad():
        for i in range(0, len(order), args.batch):
            model(ds.batch(order[i:i + args.batch], gen))
    model.eval()


def calibration_batch(ds, args):
    """Augmented training images for the activation ranges (what the model sees in training)."""
    gen = torch.Generator().manual_seed(args.seed + 7)
    idx = np.random.RandomState(args.seed + 7).permutation(len(ds.labels))[:args.calib]
    return ds.batch(idx, gen)


def main(argv):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, args.threads))
    ds = Dataset(args)
    model = SmallMobileNet(len(ds.classes), ds.channels, args.width_mult)
    if args.resume:
        model.load_state_dict(torch.load(args.resume))
    print(f"train: model {sum(p.numel() for p in model.parameters())} parameters, "
          f"input {args.size}x{args.size}x{ds.channels}", flush=True)
    if args.epochs > 0:
        ckpt = args.checkpoint or os.path.splitext(args.out)[0] + ".pt"
        train(model, ds, args, ckpt)
        reestimate_batchnorm(model, ds, args)
        torch.save(model.state_dict(), ckpt)
        print(f"train: float checkpoint {ckpt}", flush=True)
    model.eval()
    float_acc = evaluate_float(model, ds.held_x, ds.held_y)

    import export  # after training: a failing export never costs the training run
    return export.export_and_report(model, ds, args, float_acc, calibration_batch(ds, args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

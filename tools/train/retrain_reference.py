#!/usr/bin/python3
"""retrain_reference.py — the reference for `camclass retrain`'s accuracy: scikit-learn's
logistic regression on exactly the embeddings retrain used (its --embeddings-out file).

    retrain_reference.py EMBEDDINGS --l2 X

Same problem as inference/retrain_fit.c states it: features centred per feature and divided by
one common scale (root of the mean per-feature variance, over the training part), class-balanced
weights, C = 1 / (n_train · l2), the intercept not penalised (lbfgs, solved to tolerance 1e-8).
Prints one JSON line: {"float_accuracy": held-out accuracy, "train_accuracy": ..., "val": n}.
"""
import argparse
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("embeddings")
    p.add_argument("--l2", type=float, required=True)
    a = p.parse_args(argv)
    split, y, x = [], [], []
    with open(a.embeddings) as f:
        for line in f:
            parts = line.split()
            split.append(parts[0])
            y.append(int(parts[1]))
            x.append(np.array(parts[2:], dtype=np.float64))
    split, y, x = np.array(split), np.array(y), np.stack(x)
    tr, va = split == "train", split == "val"
    mean = x[tr].mean(axis=0)
    scale = np.sqrt(x[tr].var(axis=0).mean())
    z = (x - mean) / (scale if scale > 1e-9 else 1.0)
    clf = LogisticRegression(C=1.0 / (tr.sum() * a.l2), class_weight="balanced", max_iter=20000, tol=1e-8)
    clf.fit(z[tr], y[tr])
    print(json.dumps({"float_accuracy": float((clf.predict(z[va]) == y[va]).mean()) if va.any() else None,
                      "train_accuracy": float((clf.predict(z[tr]) == y[tr]).mean()), "val": int(va.sum())}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""check.py — compare an engine output file with gen.py's reference.

  check.py WANT GOT DTYPE TOL   exit 0 when every value is within TOL (float32: absolute; int8: LSB,
                                0 = bit-exact) and the top-1 agrees; prints the worst difference.
"""
import sys

import numpy as np


def main():
    want_path, got_path, dtype, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    dt = {"float32": np.float32, "int8": np.int8, "uint8": np.uint8}[dtype]
    want = np.fromfile(want_path, dtype=dt).astype(np.float64)
    got = np.fromfile(got_path, dtype=dt).astype(np.float64)
    if want.shape != got.shape:
        print(f"size {got.size} differs from the reference's {want.size}")
        return 1
    worst = float(np.abs(want - got).max()) if want.size else 0.0
    top_ok = int(np.argmax(want)) == int(np.argmax(got))
    print(f"worst difference {worst:g} (tolerance {tol:g}), top-1 {'same' if top_ok else 'DIFFERENT'}")
    return 0 if worst <= tol and top_ok else 1


if __name__ == "__main__":
    sys.exit(main())

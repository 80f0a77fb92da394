#!/usr/bin/env python3
"""Minimal camclassd client: connect, read the hello, subscribe, print labels.

Standard library only (Python 3.6+). The protocol is documented in README.md, section "Socket protocol":
one JSON object per line over a Unix stream socket.

Usage:
    examples/client.py [--socket PATH] [--top-k K] [--threshold T] [--on-change] [--once] [--json]

    --socket PATH    daemon socket (default /run/camclassd/camclassd.sock)
    --top-k K        labels per result, 1..20 (default: the daemon's setting)
    --threshold T    hide labels scoring below T, 0..1 (default: the daemon's setting)
    --on-change      only print when the (debounced) state changes
    --once           exit when the daemon goes away, instead of waiting for it
                     to come back and subscribing again
    --json           print the daemon's raw lines

Exit status: 0 on Ctrl-C, 1 on an error from the daemon (or a closed connection
with --once), 2 when the socket cannot be reached at start (not running, wrong
path, or no permission: your user must be in the socket's group).

Example:
    $ examples/client.py --top-k 2
    model mobilenet_v1_1.0_224_quant, 1001 labels, camera streaming
    seq 12  Egyptian cat 0.86, tabby 0.07
"""
import argparse
import json
import socket
import sys
import time

DEFAULT_SOCKET = "/run/camclassd/camclassd.sock"


def read_lines(sock):
    """Yield complete lines (without the newline) as they arrive."""
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line


def format_result(msg):
    labels = ", ".join(
        "%s %.2f" % (l["label"] if l["label"] is not None else "#%d" % l["index"], l["score"])
        for l in msg["labels"])
    text = "seq %d  %s" % (msg["seq"], labels or "(no label above the threshold)")
    if msg.get("dropped"):
        text += "  [%d dropped]" % msg["dropped"]
    return text


def watch(sock, args, request):
    """Subscribe on one connection and print. Returns an exit code, or None when the
    daemon went away (closed the connection)."""
    for raw in read_lines(sock):
        msg = json.loads(raw.decode("utf-8"))
        kind = msg.get("type")
        if args.json:
            print(raw.decode("utf-8"), flush=True)
        if kind == "hello":
            if not args.json:
                print("model %s, %s labels, camera %s"
                      % (msg.get("model"), msg.get("labels"), msg.get("camera")), flush=True)
            sock.sendall((json.dumps(request) + "\n").encode("utf-8"))
        elif kind == "error":
            print("camclassd: %s: %s" % (msg["code"], msg["message"]), file=sys.stderr)
            return 1
        elif args.json:
            continue
        elif kind == "result":
            print(format_result(msg), flush=True)
        elif kind == "event":
            print("event %s" % msg["event"], flush=True)
    return None


def connect(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock


def main():
    ap = argparse.ArgumentParser(description="Print camclassd results.")
    ap.add_argument("--socket", default=DEFAULT_SOCKET)
    ap.add_argument("--top-k", type=int)
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--on-change", action="store_true")
    ap.add_argument("--once", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    try:
        sock = connect(args.socket)
    except OSError as e:
        print("cannot connect to %s: %s (is camclassd running? are you in the socket's group?)"
              % (args.socket, e.strerror), file=sys.stderr)
        return 2

    request = {"cmd": "subscribe", "id": 1}
    if args.top_k is not None:
        request["top_k"] = args.top_k
    if args.threshold is not None:
        request["threshold"] = args.threshold
    if args.on_change:
        request["on_change"] = True

    while True:
        try:
            code = watch(sock, args, request)
        except OSError:
            code = None  # reset by the daemon: it went away like a close
        sock.close()
        if code is not None:
            return code
        if args.once:
            print("camclassd closed the connection", file=sys.stderr)
            return 1
        # a daemon restart (upgrade, reload of the unit): wait for it, then subscribe again
        print("camclassd went away; waiting for it to come back", file=sys.stderr, flush=True)
        delay = 1.0
        while True:
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
            try:
                sock = connect(args.socket)
                break
            except OSError:
                continue
        print("reconnected to %s, subscribing again" % args.socket, file=sys.stderr, flush=True)

if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)

#!/usr/bin/python3
"""web_check.py — HTTP checks of camclass-web that curl alone cannot make (used by suite-web.sh).

    web_check.py mjpeg PORT [FRAMES]        multipart framing of /stream.mjpg, JPEG per part
    web_check.py metrics PORT               /metrics through prometheus_client's own parser
    web_check.py slow PORT SECONDS          a stalled /stream.mjpg reader beside a normal one
    web_check.py viewers PORT N SECONDS PID N concurrent viewers; camclass-web's RSS bounded
    web_check.py limit PORT N               N streams fill the connection limit: one more refused

Each prints "ok ..." lines or "FAIL ..." lines and exits 1 on any failure. Only loopback.
"""
import http.client
import os
import re
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
failures = 0


def ok(msg):
    print("ok   " + msg)


def bad(msg):
    global failures
    failures += 1
    print("FAIL " + msg)


class Mjpeg:
    """Reads /stream.mjpg parts from an http.client response (chunked decoding done for us)."""

    def __init__(self, port, timeout=20):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.conn.request("GET", "/stream.mjpg")
        self.resp = self.conn.getresponse()
        ctype = self.resp.getheader("Content-Type", "")
        m = re.fullmatch(r"multipart/x-mixed-replace;\s*boundary=(\S+)", ctype)
        self.status = self.resp.status
        self.ctype = ctype
        self.boundary = m.group(1).encode() if m else None

    def part(self):
        """One part: (headers dict, body bytes); raises on framing errors."""
        line = self.resp.readline()
        if line != b"--" + self.boundary + b"\r\n":
            raise ValueError(f"expected boundary line, got {line[:60]!r}")
        headers = {}
        while True:
            line = self.resp.readline()
            if line == b"\r\n":
                break
            if not line.endswith(b"\r\n") or b":" not in line:
                raise ValueError(f"bad part header {line[:60]!r}")
            k, v = line[:-2].decode("ascii").split(":", 1)
            headers[k.strip().lower()] = v.strip()
        n = int(headers["content-length"])
        body = self.resp.read(n)
        if len(body) != n or self.resp.read(2) != b"\r\n":
            raise ValueError("part body shorter than Content-Length or not followed by CRLF")
        return headers, body

    def close(self):
        self.conn.close()


def is_jpeg(b):
    return len(b) > 4 and b[:2] == b"\xff\xd8" and b[-2:] == b"\xff\xd9"


def check_mjpeg(port, frames=4):
    s = Mjpeg(port)
    if s.status != 200 or not s.boundary:
        bad(f"/stream.mjpg: status {s.status}, Content-Type {s.ctype!r}")
        return
    ok(f"/stream.mjpg: 200, {s.ctype}")
    seqs = []
    try:
        for _ in range(frames):
            h, body = s.part()
            if h.get("content-type") != "image/jpeg" or not is_jpeg(body):
                bad(f"part is not a JPEG: {h}")
                return
            seqs.append(int(h.get("x-camclass-seq", "-1")))
    except (ValueError, OSError, KeyError) as e:
        bad(f"/stream.mjpg framing: {e}")
        return
    finally:
        s.close()
    if all(b > a for a, b in zip(seqs, seqs[1:])):
        ok(f"/stream.mjpg: {frames} parts, each boundary + headers + Content-Length JPEG + CRLF, seq rising {seqs}")
    else:
        bad(f"/stream.mjpg: seqs not rising {seqs}")


def check_metrics(port):
    from prometheus_client.parser import text_string_to_metric_families
    c = http.client.HTTPConnection(HOST, port, timeout=20)
    c.request("GET", "/metrics")
    r = c.getresponse()
    text = r.read().decode()
    if r.status != 200 or not r.getheader("Content-Type", "").startswith("text/plain; version=0.0.4"):
        bad(f"/metrics: {r.status} {r.getheader('Content-Type')}")
        return
    try:
        fams = {f.name: f for f in text_string_to_metric_families(text)}
    except Exception as e:  # the parser's own complaint is the finding
        bad(f"/metrics does not parse: {e}")
        return
    want = {"camclass_up": "gauge", "camclass_frames_skipped": "counter",
            "camclass_frames_in": "counter", "camclass_frames_out": "counter",
            "camclass_camera_reconnects": "counter",
            "camclass_frames_corrupt": "counter", "camclass_capture_fps": "gauge",
            "camclass_classify_fps": "gauge", "camclass_latency_seconds": "summary",
            "camclass_clients": "gauge", "camclass_subscribers": "gauge",
            "camclass_camera_streaming": "gauge", "camclass_camera_info": "gauge",
            "camclass_model_info": "gauge", "camclass_uptime_seconds": "gauge",
            "camclass_web_stream_viewers": "gauge"}
    for name, typ in want.items():
        f = fams.get(name)
        if not f or f.type != typ:
            bad(f"/metrics: {name} missing or not a {typ} ({f.type if f else None})")
            return
    up = fams["camclass_up"].samples[0].value
    frames_in = fams["camclass_frames_in"].samples[0].value
    frames_out = fams["camclass_frames_out"].samples[0].value
    if not (frames_in >= frames_out > 0):
        bad(f"/metrics: frames in {frames_in}, out {frames_out}")
        return
    stages = {s.labels["stage"] for s in fams["camclass_latency_seconds"].samples
              if "quantile" in s.labels}
    model = fams["camclass_model_info"].samples[0].labels.get("model")
    if up != 1 or stages != {"capture_to_result", "decode", "preprocess", "inference"} or not model:
        bad(f"/metrics: up {up}, stages {stages}, model {model}")
        return
    ok(f"/metrics: {len(fams)} families parsed by prometheus_client; up 1, 4 latency stages, model {model}")


def count_frames(port, seconds, out, key):
    try:
        s = Mjpeg(port, timeout=seconds + 10)
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            s.part()
            n += 1
        out[key] = n
        s.close()
    except Exception as e:
        out[key] = f"error {e}"


def check_slow(port, seconds):
    # The stalled reader: asks for the stream, then never reads (tiny receive buffer).
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect((HOST, port))
    stalled.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(1)
    out = {}
    count_frames(port, seconds, out, "fast")
    stalled.close()
    n = out["fast"]
    if isinstance(n, int) and n >= 3:
        ok(f"a stalled /stream.mjpg reader beside: the other viewer still got {n} frames in {seconds} s")
    else:
        bad(f"a stalled reader hurt the other viewer: {n}")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def check_viewers(port, n, seconds, pid, max_rss_kib=64 * 1024):
    before = rss_kib(pid)
    out = {}
    threads = [threading.Thread(target=count_frames, args=(port, seconds, out, i)) for i in range(n)]
    for t in threads:
        t.start()
    peak = before
    while any(t.is_alive() for t in threads):
        peak = max(peak, rss_kib(pid))
        time.sleep(0.2)
    got = [v for v in out.values() if isinstance(v, int) and v >= 1]
    errors = [v for v in out.values() if not isinstance(v, int)]
    if len(got) != n:
        bad(f"{n} viewers: only {len(got)} got frames; e.g. {errors[:3]}")
    else:
        ok(f"{n} concurrent viewers all got frames (min {min(got)}, max {max(got)} in {seconds} s)")
    if peak <= max_rss_kib:
        ok(f"camclass-web RSS {before} KiB before, {peak} KiB at most with {n} viewers (bound {max_rss_kib})")
    else:
        bad(f"camclass-web RSS {peak} KiB with {n} viewers (bound {max_rss_kib})")


def check_limit(port, n):
    streams = []
    try:
        for _ in range(n):
            s = Mjpeg(port)
            s.part()
            streams.append(s)
        extra = socket.create_connection((HOST, port), timeout=10)
        extra.sendall(b"GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            data = extra.recv(100)
        except (ConnectionResetError, socket.timeout):
            data = b""
        extra.close()
        if data:
            bad(f"connection {n + 1} of a limit of {n} was served: {data[:40]!r}")
        else:
            ok(f"max_connections {n}: {n} streams open, connection {n + 1} closed unserved")
    finally:
        for s in streams:
            s.close()


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    what, port = argv[1], int(argv[2])
    if what == "mjpeg":
        check_mjpeg(port, int(argv[3]) if len(argv) > 3 else 4)
    elif what == "metrics":
        check_metrics(port)
    elif what == "slow":
        check_slow(port, int(argv[3]))
    elif what == "viewers":
        check_viewers(port, int(argv[3]), int(argv[4]), int(argv[5]))
    elif what == "limit":
        check_limit(port, int(argv[3]))
    else:
        print(__doc__)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

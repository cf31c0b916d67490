"""Shared plumbing for the upstream fakes (stdlib only).

Each fake subclasses FakeHandler, implements route(), and calls serve().
FakeHandler gives it: a parsed request (self.q, self.body, self.form), the
/__requests, /__scenario and /__reset control endpoints, request recording,
and send()/send_json() helpers that always set Content-Length.  A handler
that raises is answered with a 500 and the server carries on.
"""
import argparse
import json
import re
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 96 * 1024 * 1024  # bodies beyond this are drained, not kept


def common_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--record", metavar="FILE",
                   help="append one JSON line per request received")
    return p


class Scenario:
    """Test-controlled behaviour, set by POST /__scenario.

    {"mode": "500", "times": 2, "delay_ms": 100} applies mode to the next 2
    requests (then mode falls back to "ok"); without "times" it lasts until
    changed.  delay_ms applies to every request until changed.  Other keys
    are kept as-is for the fake to read (self.extra).
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.mode, self.times, self.delay_ms, self.extra = "ok", None, 0, {}

    def set(self, d):
        with self.lock:
            if "mode" in d:
                self.mode = str(d["mode"] or "ok")
                self.times = None
            if "times" in d:
                self.times = None if d["times"] is None else int(d["times"])
                if self.times is not None and self.times <= 0:
                    self.mode, self.times = "ok", None
            if "delay_ms" in d:
                self.delay_ms = int(d["delay_ms"] or 0)
            for k, v in d.items():
                if k not in ("mode", "times", "delay_ms"):
                    self.extra[k] = v

    def take(self):
        """The mode for this request (consumes one of `times`)."""
        with self.lock:
            mode = self.mode
            if mode != "ok" and self.times is not None:
                self.times -= 1
                if self.times <= 0:
                    self.mode, self.times = "ok", None
            return mode

    def as_dict(self):
        with self.lock:
            return dict(self.extra, mode=self.mode, times=self.times,
                        delay_ms=self.delay_ms)


class Recorder:
    def __init__(self, path):
        self.path, self.items, self.lock = path, [], threading.Lock()

    def add(self, entry):
        with self.lock:
            self.items.append(entry)
            if self.path:
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry) + "\n")

    def list(self):
        with self.lock:
            return list(self.items)

    def clear(self):
        with self.lock:
            self.items.clear()


def parse_multipart(body, content_type):
    """Parse multipart/form-data.  Returns a list of parts:
    {"name", "filename" (or None), "content_type" (or None), "data" (bytes)}.
    Raises ValueError on a malformed body."""
    m = re.search(r'boundary="?([^";]+)"?', content_type, re.I)
    if not m:
        raise ValueError("no boundary")
    delim = b"--" + m.group(1).encode("latin-1")
    if delim not in body:
        raise ValueError("boundary not found")
    parts = []
    for chunk in body.split(delim)[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("part without headers")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        hdrs = {}
        for line in head.decode("latin-1").split("\r\n"):
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        cd = hdrs.get("content-disposition", "")
        name = re.search(r'(?:^|;)\s*name="([^"]*)"', cd)
        fn = re.search(r'filename="([^"]*)"', cd)
        parts.append({"name": name.group(1) if name else None,
                      "filename": fn.group(1) if fn else None,
                      "content_type": hdrs.get("content-type"),
                      "data": data})
    return parts


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake"
    modes = None  # the fake's scenario modes; /__scenario rejects others

    # --- plumbing --------------------------------------------------------
    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):  # quiet; tests read /__requests
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, BrokenPipeError):
            self.close_connection = True
        except Exception:  # never let one bad request kill anything
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True

    def do_GET(self): self.dispatch()
    def do_POST(self): self.dispatch()
    def do_PUT(self): self.dispatch()
    def do_DELETE(self): self.dispatch()
    def do_PATCH(self): self.dispatch()
    def do_HEAD(self): self.dispatch()
    def do_OPTIONS(self): self.dispatch()

    def read_body(self):
        self.body_size, self.body_truncated = 0, False
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        chunks, total = [], 0
        if "chunked" in te:
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data = self.rfile.read(size)
                self.rfile.readline(3)
                total += len(data)
                if total <= MAX_BODY:
                    chunks.append(data)
            self.body_truncated = total > MAX_BODY
        else:
            n = int(self.headers.get("Content-Length") or 0)
            while n > 0:
                data = self.rfile.read(min(n, 1 << 20))
                if not data:
                    break
                n -= len(data)
                total += len(data)
                if total <= MAX_BODY:
                    chunks.append(data)
            self.body_truncated = total > MAX_BODY
        self.body_size = total
        return b"".join(chunks)

    def dispatch(self):
        self.t0 = time.time()
        url = urllib.parse.urlsplit(self.path)
        self.route_path = url.path
        self.query_string = url.query
        self.q = {k: v[-1] for k, v in
                  urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        try:
            self.body = self.read_body()
        except Exception:
            self.body, self.body_size = b"", 0
            self.close_connection = True
        self.ctype = (self.headers.get("Content-Type") or "").lower()
        self.parts, self.form, self.form_error = None, {}, None
        if self.ctype.startswith("multipart/form-data"):
            try:
                self.parts = parse_multipart(self.body, self.headers.get("Content-Type"))
                for p in self.parts:
                    if p["filename"] is None and p["name"]:
                        self.form[p["name"]] = p["data"].decode("utf-8", "replace")
            except ValueError as e:
                self.form_error = str(e)
        elif self.ctype.startswith("application/x-www-form-urlencoded"):
            self.form = {k: v[-1] for k, v in urllib.parse.parse_qs(
                self.body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        elif self.ctype.startswith("application/json") and self.body:
            try:
                j = json.loads(self.body)
                self.form = j if isinstance(j, dict) else {}
                if not isinstance(j, dict):
                    self.form_error = "JSON body is not an object"
            except ValueError as e:
                self.form_error = "bad JSON: %s" % e

        if self.route_path.startswith("/__"):
            return self.control()
        self.record()
        delay = self.server.scenario.delay_ms
        if delay:
            time.sleep(delay / 1000.0)
        try:
            self.route()
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            self.send_json(500, {"fake_internal_error": repr(e)})

    def record(self):
        entry = {"time": round(self.t0, 3), "method": self.command,
                 "path": self.route_path, "query": self.q,
                 "raw_query": self.query_string,
                 "headers": {k: v for k, v in self.headers.items()},
                 "body_length": self.body_size}
        if self.parts is not None:
            entry["multipart"] = [
                {"name": p["name"], "filename": p["filename"],
                 "content_type": p["content_type"], "size": len(p["data"]),
                 **({} if p["filename"] is not None else
                    {"value": p["data"][:4096].decode("utf-8", "replace")})}
                for p in self.parts]
        elif self.form:
            entry["form"] = {k: (v if not isinstance(v, str) or len(v) < 4096
                                 else "<%d chars>" % len(v))
                             for k, v in self.form.items()}
        if self.form_error:
            entry["form_error"] = self.form_error
        self.server.recorder.add(entry)

    def control(self):
        p, m = self.route_path, self.command
        if p == "/__requests" and m == "GET":
            return self.send_json(200, self.server.recorder.list())
        if p == "/__requests" and m == "DELETE":
            self.server.recorder.clear()
            return self.send_json(200, {"cleared": True})
        if p == "/__scenario" and m == "GET":
            return self.send_json(200, self.server.scenario.as_dict())
        if p == "/__scenario" and m == "POST":
            if not isinstance(self.form, dict) or self.form_error:
                return self.send_json(400, {"error": "send a JSON object"})
            mode = self.form.get("mode")
            if mode not in (None, "ok") and self.modes and str(mode) not in self.modes:
                return self.send_json(400, {"error": "unknown mode %r" % mode,
                                            "modes": sorted(self.modes)})
            self.server.scenario.set(self.form)
            return self.send_json(200, self.server.scenario.as_dict())
        if p == "/__reset" and m == "POST":
            self.server.scenario.reset()
            self.server.recorder.clear()
            self.reset_state()
            return self.send_json(200, {"reset": True})
        return self.send_json(404, {"error": "unknown control endpoint"})

    def reset_state(self):
        """Fakes override to reset counters (rate limits, credits)."""

    # --- responses -------------------------------------------------------
    def send(self, status, body=b"", ctype=None, headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def send_json(self, status, obj, headers=None):
        self.send(status, json.dumps(obj, separators=(",", ":")), "application/json", headers)

    def send_stream(self, status, ctype, head, total, headers=None,
                    chunked=False, pace=None):
        """Send `head` then zero padding up to `total` bytes, in 64 KB pieces
        (no big buffer in memory).  chunked: use Transfer-Encoding instead of
        Content-Length.  pace: seconds to sleep between pieces."""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(total))
        self.end_headers()
        if self.command == "HEAD":
            return
        sent, piece = 0, 65536
        while sent < total:
            data = head[sent:sent + piece] if sent < len(head) else b""
            data += b"\0" * (min(piece, total - sent) - len(data))
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)
            sent += len(data)
            if pace:
                self.wfile.flush()
                time.sleep(pace)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def drop(self):
        """Close the connection without answering."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(handler_cls, args, **attrs):
    """Start the server, print READY, serve until killed."""
    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # capacity tests open many connections at once
    server = Server((args.bind, args.port), handler_cls)
    server.scenario = Scenario()
    server.recorder = Recorder(args.record)
    server.args = args
    server.port = server.server_address[1]
    for k, v in attrs.items():
        setattr(server, k, v)
    if hasattr(handler_cls, "on_start"):
        handler_cls.on_start(server)
    sys.stdout.write("READY port=%d\n" % server.port)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def marker(data, name):
    """Find `name=<value>;` embedded in the first MB of bytes (e.g. a PNG
    tEXt chunk or JPEG comment holding `fakescenario=500;`; the `;` ends the
    value, since binary data may follow).  Returns the value or None."""
    m = re.search(name.encode() + rb"=([A-Za-z0-9_.-]{1,40});", data[:1 << 20])
    return m.group(1).decode() if m else None


# --- images (PIL is imported lazily so the plumbing stays stdlib-only) -----
FG_BOX = (0.2, 0.1, 0.8, 0.9)  # the "subject": an ellipse in this relative box


def fg_box(w, h):
    """Pixel box (left, top, right, bottom) of the subject ellipse."""
    l, t, r, b = FG_BOX
    return (int(w * l), int(h * t), max(int(w * l) + 1, int(w * r)),
            max(int(h * t) + 1, int(h * b)))


def scene(w, h, bg_hex, fg_hex):
    """A photo-like RGB image: vertical gradient background, ellipse subject."""
    from PIL import Image, ImageDraw
    bg = tuple(int(bg_hex[i:i + 2], 16) for i in (1, 3, 5))
    light = tuple(min(255, c + 60) for c in bg)
    grad = Image.linear_gradient("L").resize((w, h))
    img = Image.composite(Image.new("RGB", (w, h), bg),
                          Image.new("RGB", (w, h), light), grad)
    ImageDraw.Draw(img).ellipse(fg_box(w, h), fill=fg_hex)
    return img


def ellipse_mask(w, h):
    from PIL import Image, ImageDraw
    m = Image.new("L", (w, h), 0)
    ImageDraw.Draw(m).ellipse(fg_box(w, h), fill=255)
    return m


def encode(img, fmt, quality=85, **kw):
    import io
    buf = io.BytesIO()
    fmt = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[fmt]
    if fmt == "JPEG" and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    if fmt == "PNG":
        img.save(buf, fmt, **kw)
    else:
        img.save(buf, fmt, quality=quality, **kw)
    return buf.getvalue()


def open_image(data):
    """Open bytes as JPEG/PNG/WebP.  Returns (Image, format), the image not
    yet loaded (dimensions known, pixels not decoded).  Raises ValueError
    "not an image", or "unsupported:<FORMAT>" for other image formats."""
    import io
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = None  # the fakes check megapixels themselves
    try:
        img = Image.open(io.BytesIO(data))
    except Exception:
        raise ValueError("not an image")
    if img.format not in ("JPEG", "PNG", "WEBP"):
        raise ValueError("unsupported:" + str(img.format))
    return img, img.format


def garbage(n=16384):
    """Deterministic bytes that are no image format (PIL included)."""
    import hashlib
    out, d = [b"garbage\n"], b"seed"
    while sum(map(len, out)) < n:
        d = hashlib.sha256(d).digest()
        out.append(d)
    return b"".join(out)[:n]

#!/usr/bin/python3
"""Fake remove.bg API (POST /removebg, GET /account), from docs/UPSTREAMS.md.

Run: /usr/bin/python3 tests/fakes/fake_removebg.py --port 0 [--api-key K]
     [--rate-mp 500] [--credits N] [--record FILE]
Routes answer both with and without the /v1.0 prefix.  Scenarios: README.md.
"""
import base64
import io
import math
import re
import sys
import threading
import time
import urllib.request
import zipfile

import fakelib

MAX_FILE = 22 * 1024 * 1024
SIZES = {"preview": 0.25, "small": 0.25, "regular": 0.25, "medium": 1.5, "hd": 4,
         "full": 25, "4k": 25, "auto": 25, "50mp": 50}
TYPES = ["auto", "person", "product", "car", "animal", "graphic", "transportation"]
FORMATS = ["auto", "png", "jpg", "webp", "zip"]
MEASURE = r"\d+(\.\d+)?(px|%)?"
MODES = {"500", "502", "503", "504", "429", "402", "403", "garbage", "jpeg",
         "jpeg_as_png", "oversized", "truncated", "drop", "slow",
         "unknown_foreground", "failed_to_read_image", "rate_limited"}
ALTERED = {"garbage", "jpeg", "jpeg_as_png", "truncated", "oversized"}


def err(title, code=None, detail=None):
    e = {"title": title}
    if code:
        e["code"] = code
    if detail:
        e["detail"] = detail
    return {"errors": [e]}


class BadRequest(Exception):
    """An error answer: raised anywhere, sent by removebg()."""
    def __init__(self, status, body, headers=None):
        super().__init__(body)
        self.status, self.body, self.headers = status, body, headers


def bad(title, code=None, detail=None, status=400):
    raise BadRequest(status, err(title, code, detail))


def parse_bool(v, name):
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("true", "1", "yes"):
        return True
    if s in ("false", "0", "no", ""):
        return False
    bad("Invalid %s parameter" % name, detail="%s must be true or false" % name)


def parse_color(v):
    from PIL import ImageColor
    s = str(v).strip().lstrip("#")
    if re.fullmatch(r"[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}", s):
        if len(s) in (3, 4):
            s = "".join(c * 2 for c in s)
        rgba = [int(s[i:i + 2], 16) for i in range(0, len(s), 2)]
        return tuple(rgba + [255] * (4 - len(rgba)))
    if s.lower() in ImageColor.colormap:
        return ImageColor.getrgb(s.lower())[:3] + (255,)
    bad("Invalid bg_color parameter", "invalid_bg_color",
        "bg_color must be a hex color code (3, 4, 6 or 8 digits) or a color name")


def parse_options(f):
    """Validate every option; return the ones the fake acts on."""
    o = {}
    size = str(f.get("size", "preview")).strip().lower()
    if size not in SIZES:
        bad("Invalid size parameter", "invalid_size",
            "size must be one of preview, full, 50MP, auto (or small, regular, medium, hd, 4k)")
    o["size"] = size
    typ = str(f.get("type", "auto")).strip().lower()
    if typ not in TYPES and not typ.startswith("__"):
        bad("Invalid type parameter", detail="type must be one of " + ", ".join(TYPES))
    o["type"] = typ
    fmt = str(f.get("format", "auto")).strip().lower()
    if fmt not in FORMATS:
        bad("Invalid format parameter", detail="format must be one of " + ", ".join(FORMATS))
    o["format"] = fmt
    o["crop"] = parse_bool(f.get("crop", False), "crop")
    cm = str(f.get("crop_margin", "0")).strip()
    vals = cm.split()
    if len(vals) not in (1, 2, 4) or not all(re.fullmatch(MEASURE, v) for v in vals):
        bad("Invalid crop_margin parameter", detail="1, 2 or 4 values in px or %")
    o["crop_margin"] = vals
    scale = str(f.get("scale", "original")).strip().lower()
    if scale != "original":
        m = re.fullmatch(r"(\d+)%", scale)
        if not m or not 10 <= int(m.group(1)) <= 100:
            bad("Invalid scale parameter", detail="scale must be 10%-100% or original")
    pos = str(f.get("position", "original")).strip().lower()
    if pos not in ("original", "center") and not re.fullmatch(r"\d+(\.\d+)?%( \d+(\.\d+)?%)?", pos):
        bad("Invalid position parameter", detail="position must be original, center or % values")
    ch = str(f.get("channels", "rgba")).strip().lower()
    if ch not in ("rgba", "alpha"):
        bad("Invalid channels parameter", detail="channels must be rgba or alpha")
    o["channels"] = ch
    roi = f.get("roi")
    if roi is not None and not re.fullmatch(r"%s %s %s %s" % ((MEASURE,) * 4), str(roi).strip()):
        bad("Invalid roi parameter", detail='roi must be "x1 y1 x2 y2" in px or %')
    o["bg_color"] = parse_color(f["bg_color"]) if f.get("bg_color") not in (None, "") else None
    return o


def margin_px(vals, w, h):
    def px(v, ref):
        return int(float(v[:-1]) * ref / 100) if v.endswith("%") else int(float(v.replace("px", "")))
    if len(vals) == 1:
        vals = vals * 4
    elif len(vals) == 2:
        vals = vals * 2
    t, r, b, l = vals  # CSS order
    return px(t, h), px(r, w), px(b, h), px(l, w)


def process(img, o):
    """The 'removal': keep a centred ellipse.  Returns (bytes, ctype, info)."""
    from PIL import Image, ImageOps
    img = ImageOps.exif_transpose(img).convert("RGB")
    fmt = o["format"]
    if fmt == "auto":
        # PNG if the result has transparency, else JPG
        opaque = o["bg_color"] is not None and o["bg_color"][3] == 255
        fmt = "jpg" if opaque and o["channels"] == "rgba" else "png"
    limit = SIZES[o["size"]]
    if fmt == "png":
        limit = min(limit, 10)
    w, h = img.size
    s = min(1.0, math.sqrt(limit * 1e6 / (w * h)))
    if s < 1.0:
        img = img.resize((max(1, int(w * s)), max(1, int(h * s))), Image.LANCZOS)
    w, h = img.size
    mask = fakelib.ellipse_mask(w, h)
    l, t, r, b = fakelib.fg_box(w, h)
    if o["crop"]:
        mt, mr, mb, ml = margin_px(o["crop_margin"], w, h)
        box = (max(0, l - ml), max(0, t - mt), min(w, r + mr), min(h, b + mb))
        img, mask = img.crop(box), mask.crop(box)
        l, t, r, b = l - box[0], t - box[1], r - box[0], b - box[1]
        w, h = img.size
    out = img.convert("RGBA")
    out.putalpha(mask)
    if o["bg_color"] is not None:
        bg = Image.new("RGBA", (w, h), o["bg_color"])
        out = Image.alpha_composite(bg, out)
    if o["channels"] == "alpha":
        out = mask
    info = {"width": w, "height": h, "top": t, "left": l, "fg_w": r - l, "fg_h": b - t}
    if fmt == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("color.jpg", fakelib.encode(img, "jpg", 90))
            z.writestr("alpha.png", fakelib.encode(mask, "png"))
        return buf.getvalue(), "application/zip", info
    if fmt == "jpg" and out.mode == "RGBA":
        flat = Image.new("RGB", (w, h), "white")
        flat.paste(out, mask=out.getchannel("A"))
        out = flat
    ctype = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}[fmt]
    return fakelib.encode(out, fmt, 90), ctype, info


class Handler(fakelib.FakeHandler):
    modes = MODES
    @staticmethod
    def on_start(server):
        server.lock = threading.Lock()
        server.credits = float(server.args.credits)
        server.window, server.used = 0, 0

    def reset_state(self):
        with self.server.lock:
            self.server.credits = float(self.server.args.credits)
            self.server.window, self.server.used = 0, 0

    def route(self):
        p = self.route_path
        if p.startswith("/v1.0/"):
            p = p[5:]
        if p == "/removebg" and self.command == "POST":
            return self.removebg()
        if p == "/account" and self.command == "GET":
            if not self.auth_ok():
                return
            c = self.server.credits
            c = int(c) if c == int(c) else c
            return self.send_json(200, {"data": {"attributes": {
                "credits": {"subscription": c, "payg": 0, "enterprise": 0, "total": c},
                "api": {"free_calls": 0, "sizes": "all"}}}})
        return self.send_json(404, err("Not found"))

    def auth_ok(self):
        key = self.headers.get("X-Api-Key")
        if key is None or key == "":
            self.send_json(403, err("Missing API Key"))
            return False
        if key != self.server.args.api_key:
            self.send_json(403, err("API Key invalid", "auth_failed"))
            return False
        return True

    def rate(self, cost=0):
        """Fixed one-minute window.  Returns (ok, headers); charges cost if ok."""
        s, now = self.server, time.time()
        with s.lock:
            if "rate_used" in s.scenario.extra:
                s.used = int(s.scenario.extra.pop("rate_used"))
                s.window = int(now // 60) * 60
            if "credits" in s.scenario.extra:
                s.credits = float(s.scenario.extra.pop("credits"))
            win = int(now // 60) * 60
            if win != s.window:
                s.window, s.used = win, 0
            ok = s.used + max(cost, 1) <= s.args.rate_mp
            if ok:
                s.used += cost
            reset = s.window + 60
            hdrs = {"X-RateLimit-Limit": s.args.rate_mp,
                    "X-RateLimit-Remaining": max(0, s.args.rate_mp - s.used),
                    "X-RateLimit-Reset": reset}
            if not ok:
                hdrs["Retry-After"] = max(1, math.ceil(reset - now))
            return ok, hdrs

    def source(self):
        """The image bytes from exactly one of image_file/_b64/_url."""
        if self.form_error:
            bad("Invalid request body", detail=self.form_error)
        f = self.form
        files = [p for p in (self.parts or []) if p["name"] == "image_file"]
        srcs = [n for n in ("image_file_b64", "image_url") if f.get(n)]
        if files and files[0]["data"]:
            srcs.append("image_file")
        if not srcs:
            bad("No image given", "missing_source",
                "Please provide the source image in the image_url, image_file or image_file_b64 parameter.")
        if len(srcs) > 1:
            bad("Multiple image sources given", "multiple_sources",
                "Please provide the source image in only one of image_url, image_file or image_file_b64.")
        if srcs[0] == "image_file":
            return files[0]["data"]
        if srcs[0] == "image_file_b64":
            try:
                return base64.b64decode(str(f["image_file_b64"]), validate=False)
            except Exception:
                bad("Failed to read image", "failed_to_read_image")
        try:
            with urllib.request.urlopen(str(f["image_url"]), timeout=10) as r:
                return r.read(MAX_FILE + 1)
        except Exception:
            bad("Failed to download image from URL", "failed_image_download")

    def removebg(self):
        if not self.auth_ok():
            return
        try:
            data = self.source() if not self.body_truncated else b"\0" * (MAX_FILE + 1)
            opts = parse_options(self.form)
        except BadRequest as e:
            return self.send_json(e.status, e.body)
        # per-request scenario: type=__<mode>, or fakescenario=<mode> in the bytes
        mode = opts["type"][2:] if opts["type"].startswith("__") else \
            (fakelib.marker(data, "fakescenario") or self.server.scenario.take())
        delay = fakelib.marker(data, "fakedelay")
        if delay:
            time.sleep(int(delay) / 1000.0)
        if mode == "slow":
            time.sleep(2.0)
        if mode in ("500", "502", "504"):
            return self.send(int(mode), "<html><body><h1>%s Server Error</h1></body></html>" % mode,
                             "text/html")
        if mode == "503":
            return self.send(503)
        if mode == "drop":
            return self.drop()
        if mode == "403":
            return self.send_json(403, err("API Key invalid", "auth_failed"))
        if mode == "402":
            return self.send_json(402, err("Insufficient credits"))
        if mode == "unknown_foreground":
            return self.send_json(400, err("Could not identify foreground in image",
                                           "unknown_foreground"))
        if mode == "failed_to_read_image":
            return self.send_json(400, err("Failed to read image", "failed_to_read_image"))
        ok, rl = self.rate(0)
        if not ok or mode in ("429", "rate_limited"):
            rl["Retry-After"] = rl.get("Retry-After", 30)
            return self.send_json(429, err("Rate limit exceeded"), rl)
        try:
            body, ctype, info, hdrs = self.run(data, opts)
        except BadRequest as e:
            return self.send_json(e.status, e.body, e.headers or rl)
        if mode == "garbage":
            body, ctype = fakelib.garbage(), "image/png"
        elif mode in ("jpeg", "jpeg_as_png"):
            body = fakelib.encode(fakelib.open_image(data)[0].convert("RGB"), "jpg")
            ctype = "image/jpeg" if mode == "jpeg" else "image/png"
        elif mode == "truncated":
            body = body[:len(body) // 2]
        elif mode == "oversized":
            return self.send_stream(200, "image/png", body[:64], 60 * 1024 * 1024, hdrs)
        if "application/json" in (self.headers.get("Accept") or "") and mode not in ALTERED:
            return self.send_json(200, {"data": {
                "result_b64": base64.b64encode(body).decode(),
                "foreground_top": info["top"], "foreground_left": info["left"],
                "foreground_width": info["fg_w"], "foreground_height": info["fg_h"]}}, hdrs)
        self.send(200, body, ctype, hdrs)

    def run(self, data, opts):
        """Decode, check, charge and process.  Returns (body, ctype, info,
        headers) or raises BadRequest."""
        if len(data) > MAX_FILE:
            bad("File too large", "file_too_large", "The maximum file size is 22 MB.")
        try:
            img, _ = fakelib.open_image(data)
        except ValueError as e:
            if str(e).startswith("unsupported:"):
                bad("Invalid file type", "invalid_file_type",
                    "Supported formats: JPG, PNG, WebP")
            bad("Failed to read image", "failed_to_read_image")
        w, h = img.size
        if w * h > 50e6:
            bad("Resolution too high", "resolution_too_high",
                "The input image has %.1f megapixels; the maximum is 50." % (w * h / 1e6))
        try:
            img.load()
        except Exception:
            bad("Failed to read image", "failed_to_read_image")
        charge = 0.25 if SIZES[opts["size"]] <= 0.25 else 1.0
        body, ctype, info = process(img, opts)
        cost = max(1, round(info["width"] * info["height"] / 1e6))
        s = self.server
        ok, rl = self.rate(0)  # check only
        with s.lock:
            if s.credits < charge:
                raise BadRequest(402, err("Insufficient credits"), rl)
        ok, rl = self.rate(cost)
        if not ok:
            raise BadRequest(429, err("Rate limit exceeded"), rl)
        with s.lock:
            s.credits -= charge
        hdrs = dict(rl, **{
            "X-Credits-Charged": "%g" % charge,
            "X-Type": opts["type"] if opts["type"] in TYPES[1:] else "person",
            "X-Width": info["width"], "X-Height": info["height"],
            "X-Foreground-Top": info["top"], "X-Foreground-Left": info["left"],
            "X-Foreground-Width": info["fg_w"], "X-Foreground-Height": info["fg_h"]})
        return body, ctype, info, hdrs


def main():
    p = fakelib.common_args("Fake remove.bg API")
    p.add_argument("--api-key", default="test-removebg-key")
    p.add_argument("--rate-mp", type=int, default=500, help="megapixel-images per minute")
    p.add_argument("--credits", type=float, default=1e9)
    fakelib.serve(Handler, p.parse_args())


if __name__ == "__main__":
    sys.exit(main())

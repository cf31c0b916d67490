#!/usr/bin/python3
"""Fake rembg server (`rembg s`): POST /api/remove, from docs/UPSTREAMS.md.

Run: /usr/bin/python3 tests/fakes/fake_rembg.py --port 0 [--record FILE]
Options come as form fields or query parameters (form wins), validated like
FastAPI does (422 with a `detail` list).  Scenarios: README.md.
"""
import sys
import time

import fakelib

MODELS = ["u2net", "u2netp", "u2net_human_seg", "u2net_cloth_seg", "silueta",
          "isnet-general-use", "isnet-anime", "sam", "birefnet-general",
          "birefnet-general-lite", "birefnet-portrait", "birefnet-dis",
          "birefnet-hrsod", "birefnet-cod", "birefnet-massive", "bria-rmbg"]
TRUE = ("true", "1", "yes", "on")
FALSE = ("false", "0", "no", "off")


def validate(opts, where):
    """FastAPI-style validation of the rembg options -> (values, errors)."""
    v, errors = {}, []
    def e(name, msg, typ, **ctx):
        d = {"loc": [where, name], "msg": msg, "type": typ}
        if ctx:
            d["ctx"] = ctx
        errors.append(d)
    model = opts.get("model", "u2net")
    if model not in MODELS and not model.startswith("__"):
        e("model", "value is not a valid enumeration member; permitted: "
          + ", ".join("'%s'" % m for m in MODELS), "type_error.enum", enum_values=MODELS)
    v["model"] = model
    for name in ("a", "om", "ppm"):
        s = opts.get(name, "false").strip().lower()
        if s not in TRUE + FALSE:
            e(name, "value could not be parsed to a boolean", "type_error.bool")
        v[name] = s in TRUE
    for name, default, hi in (("af", 240, 255), ("ab", 10, 255), ("ae", 10, None)):
        try:
            n = int(opts.get(name, default))
        except ValueError:
            e(name, "value is not a valid integer", "type_error.integer")
            continue
        if n < 0:
            e(name, "ensure this value is greater than or equal to 0",
              "value_error.number.not_ge", limit_value=0)
        elif hi is not None and n > hi:
            e(name, "ensure this value is less than or equal to %d" % hi,
              "value_error.number.not_le", limit_value=hi)
    v["bgc"] = opts.get("bgc") or None
    return v, errors


class Handler(fakelib.FakeHandler):
    modes = {"500", "503", "drop", "garbage", "slow", "truncated"}
    def route(self):
        if self.route_path != "/api/remove":
            return self.send_json(404, {"detail": "Not Found"})
        if self.command == "GET":
            if "url" not in self.q:
                return self.send_json(422, {"detail": [{"loc": ["query", "url"],
                                      "msg": "field required", "type": "value_error.missing"}]})
            return self.send_json(400, {"detail": "fetching URLs is disabled in this fake"})
        if self.command != "POST":
            return self.send_json(405, {"detail": "Method Not Allowed"})
        files = [p for p in (self.parts or []) if p["name"] == "file"]
        if not files:
            return self.send_json(422, {"detail": [{"loc": ["body", "file"],
                                  "msg": "field required", "type": "value_error.missing"}]})
        data = files[0]["data"]
        opts = dict(self.q, **self.form)
        vals, errors = validate(opts, "body" if self.form else "query")
        if errors:
            return self.send_json(422, {"detail": errors})
        mode = vals["model"][2:] if vals["model"].startswith("__") else \
            (fakelib.marker(data, "fakescenario") or self.server.scenario.take())
        delay = fakelib.marker(data, "fakedelay")
        if delay:
            time.sleep(int(delay) / 1000.0)
        if mode == "slow":
            time.sleep(2.0)
        if mode == "500":
            return self.send(500, "Internal Server Error", "text/plain; charset=utf-8")
        if mode == "503":
            return self.send(503)
        if mode == "drop":
            return self.drop()
        if mode == "garbage":
            return self.send(200, fakelib.garbage(), "image/png")
        try:
            img, _ = fakelib.open_image(data)
            img.load()
        except Exception:
            return self.send_json(400, {"detail": "Invalid image: cannot identify image file"})
        try:
            bgc = tuple(int(x) for x in vals["bgc"].split(",")) if vals["bgc"] else None
            if bgc is not None and len(bgc) != 4:
                raise ValueError
        except ValueError:
            # the real server crashes on a bad bgc: a bare 500
            return self.send(500, "Internal Server Error", "text/plain; charset=utf-8")
        body = cutout(img, vals["om"], bgc)
        if mode == "truncated":
            body = body[:len(body) // 2]
        self.send(200, body, "image/png")


def cutout(img, only_mask, bgc):
    from PIL import Image, ImageOps
    img = ImageOps.exif_transpose(img).convert("RGBA")
    mask = fakelib.ellipse_mask(*img.size)
    if only_mask:
        return fakelib.encode(mask, "png")
    img.putalpha(mask)
    if bgc:
        img = Image.alpha_composite(Image.new("RGBA", img.size, bgc), img)
    return fakelib.encode(img, "png")


def main():
    fakelib.serve(Handler, fakelib.common_args("Fake rembg server").parse_args())


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Fake Unsplash API + image host, built from docs/UPSTREAMS.md.

Run: /usr/bin/python3 tests/fakes/fake_unsplash.py --port 0 [--access-key K]
     [--image-base URL] [--api-base URL] [--limit 50] [--slow-ms 5000]
     [--record FILE]
Scenario keywords (in the search `query`) and modes: see README.md.
"""
import functools
import hashlib
import json
import math
import re
import sys
import threading
import time
import urllib.parse

import fakelib

ID_RE = re.compile(r"^[A-Za-z0-9_-]{6,20}$")
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
B83 = ("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
       "#$%*+,-.:;=?@[]^_{|}~")
COLORS = ["black_and_white", "black", "white", "yellow", "orange", "red",
          "purple", "magenta", "green", "teal", "blue"]
COLOR_HEX = {"black_and_white": "#8c8c8c", "black": "#262626", "white": "#f3f3f3",
             "yellow": "#d9c026", "orange": "#d97326", "red": "#c02626",
             "purple": "#5940a6", "magenta": "#c0408c", "green": "#26a640",
             "teal": "#268c8c", "blue": "#2659c0"}
ORIENTATIONS = ["landscape", "portrait", "squarish"]
FIRST = ["Richard", "Ana", "Kenji", "Lea", "Omar", "Priya", "Jonas", "Maria", "Sven", "Aiko"]
LAST = ["Brutyo", "Silva", "Tanaka", "Muller", "Haddad", "Rao", "Berg", None, "Novak", "Kim"]
ADJ = ["yellow", "red", "small", "old", "bright", "quiet", "wooden", "green", "wet", "tall"]
NOUN = ["apple", "labrador retriever", "tulip", "bicycle", "mountain", "coffee cup",
        "city street", "beach", "cat", "sports car"]
PLACE = ["on a table", "in a field", "near the sea", "at night", "in the snow",
         "under blue sky", "on white background", "in the rain"]
POPULAR = {"cat", "dog", "nature", "car", "flower", "people", "apple", "city",
           "mountain", "beach", "food", "red", "water", "sky", "love"}

# Ids with special behaviour on /img (they resolve on /photos/:id too and are
# the results of the query `__specials`).
SPECIAL_IDS = ["img-redirect-local", "img-redirect-meta", "img-redirect-loop",
               "img-huge-30mb", "img-huge-chunked", "img-slow", "img-trickle",
               "img-garbage", "img-truncated", "img-html", "img-missing"]


def h(s):
    return hashlib.sha256(s.encode()).digest()


def b62(digest, n):
    return "".join(ALNUM[b % 62] for b in digest[:n])


def make_id(seed):
    """11-char id: 9 chars + 2-char checksum, so /photos/:id can tell the
    ids this fake hands out from unknown ones without keeping state."""
    base = b62(h("id:" + seed), 9)
    return base + b62(h("chk:" + base), 2)


def known_id(pid):
    if pid in SPECIAL_IDS or pid.startswith("scn-"):
        return True
    return len(pid) == 11 and b62(h("chk:" + pid[:9]), 2) == pid[9:]


def traits(pid):
    """Orientation and colour word of a photo, from its id alone."""
    d = h("photo:" + pid)
    return ORIENTATIONS[d[0] % 3], COLORS[d[1] % 11]


def photo(pid, base, nulls=False, full=False):
    """The photo object for id `pid`, deterministic."""
    d = h("photo:" + pid)
    orient, cword = traits(pid)
    long_side = 3000 + (d[2] * 256 + d[3]) % 4000
    short = long_side * 2 // 3
    w, hh = {"landscape": (long_side, short), "portrait": (short, long_side),
             "squarish": (long_side, long_side - d[4] % 50)}[orient]
    base_hex = COLOR_HEX[cword]
    color = "#%02x%02x%02x" % tuple(max(0, min(255, int(base_hex[1 + 2 * i:3 + 2 * i], 16)
                                              + (d[5 + i] % 21) - 10)) for i in range(3))
    alt = "%s %s %s" % (ADJ[d[8] % 10], NOUN[d[9] % 10], PLACE[d[10] % 8])
    first, last = FIRST[d[11] % 10], LAST[d[12] % 10]
    uname = (first + (last or "") + ("" if d[13] % 2 else str(d[13]))).lower()
    uid = b62(h("user:" + uname), 11)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                            time.gmtime(1420070400 + int.from_bytes(d[14:18], "big") % 300000000))
    ixid = "M3w" + b62(h("ixid:" + pid), 21)
    img, api = base["img"], base["api"]
    raw = "%s/%s?ixid=%s&ixlib=rb-4.0.3" % (img, pid, ixid)
    fmt = "&crop=entropy&cs=tinysrgb&fit=max&fm=jpg&q=80"
    prof = "%s/profile-%s?ixlib=rb-4.0.3&crop=faces&fit=crop" % (img, uid)
    p = {
        "id": pid,
        "slug": "%s-%s" % (alt.replace(" ", "-"), pid),
        "alternative_slugs": {"en": "%s-%s" % (alt.replace(" ", "-"), pid)},
        "created_at": created, "updated_at": created, "promoted_at": None,
        "width": w, "height": hh,
        "color": None if (nulls or d[19] % 10 == 0) else color,
        "blur_hash": None if (nulls or d[20] % 8 == 0) else
        "L" + "".join(B83[b % 83] for b in h("bh:" + pid)[:27]),
        "description": None if (nulls or d[21] % 3 == 0) else alt.capitalize() + ".",
        "alt_description": None if nulls else alt,
        "breadcrumbs": [],
        "urls": {"raw": raw,
                 "full": raw.replace("?", "?crop=entropy&cs=srgb&fm=jpg&", 1) + "&q=85",
                 "regular": raw + fmt + "&w=1080",
                 "small": raw + fmt + "&w=400",
                 "thumb": raw + fmt + "&w=200",
                 "small_s3": "%s/%s?s3=1&w=400&fm=jpg" % (img, pid)},
        "links": {"self": "%s/photos/%s" % (api, pid),
                  "html": "https://unsplash.com/photos/%s" % pid,
                  "download": "https://unsplash.com/photos/%s/download?ixid=%s" % (pid, ixid),
                  "download_location": "%s/photos/%s/download?ixid=%s" % (api, pid, ixid)},
        "likes": int.from_bytes(d[22:24], "big") % 5000,
        "liked_by_user": False, "current_user_collections": [],
        "sponsorship": None, "topic_submissions": {}, "asset_type": "photo",
        "user": {"id": uid, "updated_at": created, "username": uname,
                 "name": "%s %s" % (first, last) if last else first,
                 "first_name": first, "last_name": last,
                 "twitter_username": None, "portfolio_url": None,
                 "bio": None if nulls or d[24] % 2 else "Photographer.",
                 "location": None,
                 "links": {"self": "%s/users/%s" % (api, uname),
                           "html": "https://unsplash.com/@%s" % uname,
                           "photos": "%s/users/%s/photos" % (api, uname),
                           "likes": "%s/users/%s/likes" % (api, uname),
                           "portfolio": "%s/users/%s/portfolio" % (api, uname)},
                 "profile_image": {"small": prof + "&w=32&h=32",
                                   "medium": prof + "&w=64&h=64",
                                   "large": prof + "&w=128&h=128"},
                 "instagram_username": None, "total_collections": d[25] % 20,
                 "total_likes": d[26] * 3, "total_photos": d[27] * 2,
                 "accepted_tos": True, "for_hire": bool(d[28] % 2),
                 "social": {"instagram_username": None, "portfolio_url": None,
                            "twitter_username": None, "paypal_email": None}},
    }
    if full:
        p.update({
            "exif": {"make": "Canon", "model": "Canon EOS R5", "name": "Canon, EOS R5",
                     "exposure_time": "1/%d" % (60 + d[29]), "aperture": "2.8",
                     "focal_length": "50.0", "iso": 100 * (1 + d[30] % 8)},
            "location": {"name": None, "city": None, "country": None,
                         "position": {"latitude": None, "longitude": None}}
            if d[31] % 2 else
            {"name": "Lisbon, Portugal", "city": "Lisbon", "country": "Portugal",
             "position": {"latitude": 38.72, "longitude": -9.14}},
            "downloads": int.from_bytes(d[0:3], "big") % 100000,
            "views": int.from_bytes(d[3:6], "big"),
            "tags": [{"type": "search", "title": t} for t in alt.split()[:3]],
            "related_collections": {"total": 0, "type": "related", "results": []},
            "meta": {"index": True},
            "public_domain": False,
        })
    return p


def parse_keywords(query):
    """`__xxx` tokens select scenarios; the rest is the real query."""
    kws = re.findall(r"__([A-Za-z0-9=]+)", query)
    clean = re.sub(r"__[A-Za-z0-9=]+", " ", query).strip().lower()
    return kws, " ".join(clean.split())


MODE_WORDS = {"401", "403rate", "rate_limited", "429", "403perm", "500", "503",
              "badjson", "html", "slow", "huge", "nulls", "drop"}


class Handler(fakelib.FakeHandler):
    modes = MODE_WORDS
    @staticmethod
    def on_start(server):
        a = server.args
        host = "127.0.0.1" if a.bind in ("0.0.0.0", "") else a.bind
        own = "http://%s:%d" % (host, server.port)
        server.base = {"api": (a.api_base or own).rstrip("/"),
                       "img": (a.image_base or own + "/img").rstrip("/"),
                       "own": own}
        server.rl_lock = threading.Lock()
        server.rl_window, server.rl_remaining = time.time(), a.limit

    def reset_state(self):
        with self.server.rl_lock:
            self.server.rl_window, self.server.rl_remaining = time.time(), self.server.args.limit

    # --- routing ---------------------------------------------------------
    def route(self):
        p = self.route_path
        if self.command not in ("GET", "HEAD"):
            return self.send_json(404, {"errors": ["Not found"]})
        if p.startswith("/img/"):
            return self.image(p[5:])
        if p == "/search/photos":
            return self.api(self.search)
        m = re.match(r"^/photos/([^/]+)(/download)?/?$", p)
        if m:
            return self.api(lambda mode: (self.download if m.group(2) else self.get_photo)(
                urllib.parse.unquote(m.group(1)), mode))
        return self.send_json(404, {"errors": ["Not found"]})

    def rl_headers(self):
        return {"X-Ratelimit-Limit": self.server.args.limit,
                "X-Ratelimit-Remaining": max(0, self.server.rl_remaining)}

    def api(self, fn):
        """Shared steps of every API route: auth, scenario, rate limit."""
        self.extra_headers = {}
        key = self.server.args.access_key
        auth = self.headers.get("Authorization") or ""
        kws = parse_keywords(self.q.get("query", ""))[0] if self.route_path == "/search/photos" else []
        modes = [k for k in kws if k in MODE_WORDS]
        mode = modes[0] if modes else self.server.scenario.take()
        if mode == "drop":
            return self.drop()
        if (auth.strip() != "Client-ID " + key and self.q.get("client_id") != key) or mode == "401":
            return self.send_json(401, {"errors": ["OAuth error: The access token is invalid"]})
        s = self.server
        with s.rl_lock:
            if "ratelimit_remaining" in s.scenario.extra:
                s.rl_remaining = int(s.scenario.extra.pop("ratelimit_remaining"))
            if time.time() - s.rl_window >= 3600:
                s.rl_window, s.rl_remaining = time.time(), s.args.limit
            spent = s.rl_remaining <= 0
            if not spent:
                s.rl_remaining -= 1
            rl = self.rl_headers()
        if spent or mode in ("403rate", "rate_limited", "429"):
            rl["X-Ratelimit-Remaining"] = 0
            return self.send(429 if mode == "429" else 403, "Rate Limit Exceeded",
                             "text/plain", rl)
        if mode == "403perm":
            return self.send_json(403, {"errors": [
                "OAuth error: The access token does not have the required scope"]}, rl)
        if mode == "500":
            return self.send(500, "<!DOCTYPE html><html><body><h1>We're sorry, but "
                             "something went wrong.</h1></body></html>\n", "text/html", rl)
        if mode == "503":
            return self.send(503, "<html><body><h1>503 Service Unavailable</h1>"
                             "No server is available to handle this request.</body></html>\n",
                             "text/html")
        if mode == "html":
            return self.send(200, "<!DOCTYPE html><html><head><title>Unsplash</title></head>"
                             "<body>Beautiful free images</body></html>\n", "text/html", rl)
        if mode == "slow":
            time.sleep(self.server.args.slow_ms / 1000.0)
        status, body = fn(mode)
        text = json.dumps(body, separators=(",", ":")) if not isinstance(body, str) else body
        if mode == "badjson":
            text = text[:max(1, len(text) // 2)]
        hdrs = dict(rl, **self.extra_headers)
        self.send(status, text, "application/json", hdrs)

    # --- /search/photos --------------------------------------------------
    def search(self, mode):
        q = self.q
        raw_query = q.get("query", "")
        kws, query = parse_keywords(raw_query)
        if not raw_query.strip():
            return 400, {"errors": ["query is missing"]}
        try:
            page = int(q.get("page", "1"))
            per_page = int(q.get("per_page", "10"))
        except ValueError:
            return 400, {"errors": ["page and per_page must be integers"]}
        if page < 1:
            return 400, {"errors": ["page must be greater than 0"]}
        if per_page < 1:
            return 400, {"errors": ["per_page must be greater than 0"]}
        per_page = min(per_page, 30)
        checks = {"order_by": ["relevant", "latest"], "color": COLORS,
                  "orientation": ORIENTATIONS, "content_filter": ["low", "high"]}
        for name, allowed in checks.items():
            if name in q and q[name] not in allowed:
                return 400, {"errors": ["%s is invalid" % name]}
        orient, color = q.get("orientation"), q.get("color")

        specials = "specials" in kws
        total_kw = [k for k in kws if k.startswith("total=")]
        if specials:
            total = len(SPECIAL_IDS)
        elif total_kw:
            total = int(total_kw[0][6:] or 0)
        elif query == "nothingatall":
            total = 0
        else:
            d = h("total:" + query)
            raw = 25000 if (query in POPULAR or "many" in kws) else \
                1 + int.from_bytes(d[:4], "big") % 9000
            if orient:
                raw //= 3
            if color:
                raw //= 8
            if q.get("content_filter") == "high":
                raw = raw * 97 // 100
            total = 10001 if raw > 10000 else raw
        x_total = 10000 if total == 10001 else total
        total_pages = math.ceil(total / per_page)
        start = (page - 1) * per_page
        if page > 200:
            results, total_pages = [], 0
        else:
            idx = range(start, min(total, start + per_page))
            results = [photo(SPECIAL_IDS[i] if specials else
                             self.pick_id(query, q.get("order_by", "relevant"), i, orient, color),
                             self.server.base, nulls=(mode == "nulls"))
                       for i in idx]
        sponsored = "sponsored" in kws or (h("sp:" + query)[0] % 4 == 0 and not specials)
        if results and page == 1 and sponsored and page <= 200:
            sp = photo(make_id("sponsor:" + query), self.server.base, nulls=(mode == "nulls"))
            sp["sponsorship"] = {
                "impression_urls": ["https://secure.insightexpressai.com/adServer/adServerESI.aspx?x=1"],
                "tagline": "Made to change", "tagline_url": "https://example.com/?utm_source=unsplash",
                "sponsor": dict(sp["user"], username="examplebrand", name="Example Brand")}
            results[0] = sp
        if mode == "huge" or "huge" in kws:
            pad = "x" * (20 * 1024 * 1024 // max(1, len(results) or 1))
            for r in results:
                r["x_padding"] = pad
            if not results:
                results = [{"x_padding": pad}]
        # Link header
        def link(pg):
            qs = dict(q, page=str(pg))
            return "<%s/search/photos?%s>" % (self.server.base["api"], urllib.parse.urlencode(qs))
        links = []
        if page > 1:
            links += ['%s; rel="first"' % link(1), '%s; rel="prev"' % link(page - 1)]
        if page < total_pages:
            links += ['%s; rel="last"' % link(total_pages), '%s; rel="next"' % link(page + 1)]
        self.extra_headers = {"X-Total": x_total, "X-Per-Page": per_page}
        if links:
            self.extra_headers["Link"] = ", ".join(links)
        return 200, {"total": total, "total_pages": total_pages, "results": results}

    @staticmethod
    def pick_id(query, order, i, orient, color):
        """The i-th result id of a search; filters are honoured by drawing ids
        until one has the asked orientation/colour."""
        for salt in range(2000):
            pid = make_id("%s|%s|%d|%d" % (query, order, i, salt))
            o, c = traits(pid)
            if (not orient or o == orient) and (not color or c == color):
                return pid
        return pid

    # --- /photos/:id and /photos/:id/download ----------------------------
    def get_photo(self, pid, mode):
        if not ID_RE.match(pid) or not known_id(pid):
            return 404, {"errors": ["Couldn't find Photo"]}
        return 200, photo(pid, self.server.base, nulls=(mode == "nulls"), full=True)

    def download(self, pid, mode):
        if not ID_RE.match(pid) or not known_id(pid):
            return 404, {"errors": ["Couldn't find Photo"]}
        if not self.q.get("ixid"):
            return 400, {"errors": ["ixid is missing"]}
        return 200, {"url": photo(pid, self.server.base)["urls"]["full"]}

    # --- /img/<id> -------------------------------------------------------
    def image(self, pid):
        pid = urllib.parse.unquote(pid)
        if not ID_RE.match(pid) and not pid.startswith("profile-"):
            return self.send(404, "Not found", "text/plain")
        own, qs, slow = self.server.base["own"], self.query_string, self.server.args.slow_ms / 1000.0
        jpeg_head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        if pid == "img-missing":
            return self.send(404, "Not found", "text/plain")
        if pid == "img-redirect-local":
            return self.send(302, "", headers={"Location": "%s/img/%s?%s" % (
                own, make_id("redirected"), qs)})
        if pid == "img-redirect-meta":
            return self.send(302, "", headers={"Location": "http://169.254.169.254/latest/meta-data/"})
        if pid == "img-redirect-loop":
            return self.send(302, "", headers={"Location": "%s/img/img-redirect-loop?%s" % (own, qs)})
        if pid == "img-huge-30mb":
            return self.send_stream(200, "image/jpeg", jpeg_head, 30 * 1024 * 1024)
        if pid == "img-huge-chunked":
            return self.send_stream(200, "image/jpeg", jpeg_head, 30 * 1024 * 1024, chunked=True)
        if pid == "img-garbage":
            return self.send(200, fakelib.garbage(32000), "image/jpeg")
        if pid == "img-html":
            return self.send(200, "<html><body>Not an image</body></html>", "text/html")
        if pid == "img-slow":
            time.sleep(slow)
        try:
            w, hh, fmt, quality = self.img_params(pid)
        except ValueError as e:
            return self.send(400, str(e), "text/plain")
        data = render(pid, w, hh, fmt, quality)
        ctype = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[fmt]
        if pid == "img-truncated":
            data = data[:len(data) // 2]
        hdrs = {"Cache-Control": "public, max-age=31536000", "Accept-Ranges": "bytes"}
        if pid == "img-trickle":
            pieces = 50
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            step = math.ceil(len(data) / pieces)
            for i in range(0, len(data), step):
                self.wfile.write(data[i:i + step])
                self.wfile.flush()
                time.sleep(slow / pieces)
            return
        self.send(200, data, ctype, hdrs)

    def img_params(self, pid):
        """imgix-style w/h/fit/fm/q/dpr -> output size and format."""
        q = self.q
        if pid.startswith("profile-"):
            ow = oh = 256
        else:
            p = photo(pid, self.server.base)
            ow, oh = p["width"], p["height"]
        def num(name, lo, hi):
            if name not in q or q[name] == "":
                return None
            try:
                v = float(q[name])
            except ValueError:
                raise ValueError("bad %s" % name)
            return max(lo, min(hi, v))
        w, hh, dpr = num("w", 1, 8192), num("h", 1, 8192), num("dpr", 1, 5) or 1
        if (w or hh) and dpr:
            w, hh = w and w * dpr, hh and hh * dpr
        fit = q.get("fit", "clip")
        if fit == "crop" and w and hh:
            tw, th = int(w), int(hh)
        elif w or hh:  # max/clip: fit inside the box, never enlarge
            s = min(w / ow if w else 1e9, hh / oh if hh else 1e9, 1.0)
            tw, th = max(1, round(ow * s)), max(1, round(oh * s))
        else:
            tw, th = ow, oh
        fmt = q.get("fm", "jpg")
        fmt = fmt if fmt in ("jpg", "png", "webp") else "jpg"
        quality = int(num("q", 0, 100) or 75)
        return tw, th, fmt, max(1, quality)


@functools.lru_cache(maxsize=48)
def render(pid, w, hh, fmt, quality):
    d = h("photo:" + pid)
    _, cword = traits(pid)
    fg = "#%02x%02x%02x" % (d[6], 255 - d[7], d[8])
    img = fakelib.scene(w, hh, COLOR_HEX[cword], fg)
    kw = {}
    if pid.startswith("scn-") and fmt == "jpg":
        kw["comment"] = ("fakescenario=%s;" % pid[4:]).encode()
    elif pid.startswith("scn-") and fmt == "png":
        from PIL import PngImagePlugin
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "fakescenario=%s;" % pid[4:])
        kw["pnginfo"] = info
    return fakelib.encode(img, fmt, quality, **kw)


def main():
    p = fakelib.common_args("Fake Unsplash API")
    p.add_argument("--access-key", default="test-access-key")
    p.add_argument("--image-base", help="base of image URLs (default http://127.0.0.1:<port>/img)")
    p.add_argument("--api-base", help="base of API links (default http://127.0.0.1:<port>)")
    p.add_argument("--limit", type=int, default=50, help="requests per hour")
    p.add_argument("--slow-ms", type=int, default=5000)
    fakelib.serve(Handler, p.parse_args())


if __name__ == "__main__":
    sys.exit(main())

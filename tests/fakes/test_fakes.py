#!/usr/bin/python3
"""Self-test of the upstream fakes: /usr/bin/python3 tests/fakes/test_fakes.py"""
import base64
import io
import json
import os
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

from PIL import Image, PngImagePlugin

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"


def start(script, *args):
    proc = subprocess.Popen([PY, os.path.join(HERE, script), "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # READY port=N
    if not line.startswith("READY port="):
        proc.kill()
        raise RuntimeError("%s did not start: %r %s" % (script, line, proc.stderr.read()))
    return proc, "http://127.0.0.1:%d" % int(line.split("=")[1])


def stop(proc):
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
    proc.stdout.close()
    proc.stderr.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def req(method, url, body=None, headers=None, timeout=30):
    """-> (status, headers, body bytes); never raises on HTTP errors."""
    r = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with OPENER.open(r, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def multipart(fields, files):
    """fields: {name: value}; files: {name: (filename, ctype, bytes)}."""
    b = uuid.uuid4().hex
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                   % (b, k, v)).encode())
    for k, (fn, ct, data) in files.items():
        out.write(('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
                   'Content-Type: %s\r\n\r\n' % (b, k, fn, ct)).encode())
        out.write(data + b"\r\n")
    out.write(("--%s--\r\n" % b).encode())
    return out.getvalue(), {"Content-Type": "multipart/form-data; boundary=" + b}


def jpeg(w=640, h=480, color="steelblue"):
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, "JPEG")
    return buf.getvalue()


def png_with_text(text, w=200, h=150):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    buf = io.BytesIO()
    Image.new("RGB", (w, h), "orange").save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def js(body):
    return json.loads(body)


class UnsplashTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rec = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
        cls.proc, cls.base = start("fake_unsplash.py", "--slow-ms", "300",
                                   "--limit", "1000", "--record", cls.rec)
        cls.auth = {"Authorization": "Client-ID test-access-key", "Accept-Version": "v1"}

    @classmethod
    def tearDownClass(cls):
        stop(cls.proc)
        os.unlink(cls.rec)

    def setUp(self):
        req("POST", self.base + "/__reset")

    def search(self, **q):
        return req("GET", self.base + "/search/photos?" + urllib.parse.urlencode(q),
                   headers=self.auth)

    def test_search_shape_and_headers(self):
        st, h, body = self.search(query="red apple", per_page=5)
        self.assertEqual(st, 200)
        self.assertEqual(h["Content-Type"], "application/json")
        self.assertEqual(h["X-Per-Page"], "5")
        self.assertEqual(h["X-Ratelimit-Limit"], "1000")
        self.assertEqual(h["X-Ratelimit-Remaining"], "999")
        d = js(body)
        self.assertEqual(len(d["results"]), 5)
        self.assertEqual(h["X-Total"], str(d["total"]))
        self.assertIn('rel="next"', h["Link"])
        self.assertIn('rel="last"', h["Link"])
        self.assertNotIn('rel="prev"', h["Link"])
        p = d["results"][1]
        for k in ("id", "slug", "created_at", "width", "height", "color", "blur_hash",
                  "description", "alt_description", "urls", "links", "likes",
                  "sponsorship", "user"):
            self.assertIn(k, p)
        self.assertEqual(set(p["urls"]), {"raw", "full", "regular", "small", "thumb", "small_s3"})
        self.assertEqual(set(p["links"]), {"self", "html", "download", "download_location"})
        self.assertIn("ixid=", p["links"]["download_location"])
        for k in ("id", "username", "name", "first_name", "last_name", "links", "profile_image"):
            self.assertIn(k, p["user"])
        # deterministic
        self.assertEqual(js(self.search(query="red apple", per_page=5)[2]), d)
        # per_page capped, page 2 has prev/first
        st, h, body = self.search(query="red apple", per_page=100, page=2)
        self.assertEqual(len(js(body)["results"]), 30)
        self.assertEqual(h["X-Per-Page"], "30")
        self.assertIn('rel="first"', h["Link"])

    def test_quirks(self):
        st, h, body = self.search(query="nothingatall")
        self.assertEqual((st, js(body)), (200, {"total": 0, "total_pages": 0, "results": []}))
        st, h, body = self.search(query="cat")
        self.assertEqual(js(body)["total"], 10001)
        self.assertEqual(h["X-Total"], "10000")
        st, h, body = self.search(query="cat", page=201)
        self.assertEqual((js(body)["results"], js(body)["total_pages"]), ([], 0))
        d = js(self.search(query="dog __sponsored")[2])
        self.assertIsNotNone(d["results"][0]["sponsorship"])
        d = js(self.search(query="dog __nulls", per_page=30)[2])
        for p in d["results"]:
            self.assertIsNone(p["description"])
            self.assertIsNone(p["color"])
            self.assertIsNotNone(p["user"]["name"])
        d = js(self.search(query="dog __total=7", per_page=5, page=2)[2])
        self.assertEqual((d["total"], d["total_pages"], len(d["results"])), (7, 2, 2))
        d = js(self.search(query="city", per_page=30, orientation="portrait")[2])
        self.assertTrue(all(p["height"] > p["width"] for p in d["results"]))
        nulls = sum(p["description"] is None for p in js(self.search(query="x", per_page=30)[2])["results"])
        self.assertGreater(nulls, 0)

    def test_auth_and_params(self):
        st, h, body = req("GET", self.base + "/search/photos?query=cat")
        self.assertEqual((st, js(body)), (401, {"errors": ["OAuth error: The access token is invalid"]}))
        st, _, _ = req("GET", self.base + "/search/photos?query=cat&client_id=test-access-key")
        self.assertEqual(st, 200)
        st, _, body = self.search(page=1)
        self.assertEqual(st, 400)
        self.assertIsInstance(js(body)["errors"][0], str)
        self.assertEqual(self.search(query="cat", color="pink")[0], 400)

    def test_error_keywords(self):
        st, h, body = self.search(query="cat __403rate")
        self.assertEqual((st, body, h["X-Ratelimit-Remaining"]), (403, b"Rate Limit Exceeded", "0"))
        self.assertTrue(h["Content-Type"].startswith("text/plain"))
        self.assertEqual(self.search(query="cat __429")[0], 429)
        st, _, body = self.search(query="cat __403perm")
        self.assertEqual(st, 403)
        self.assertIn("errors", js(body))
        st, h, body = self.search(query="cat __500")
        self.assertEqual((st, h["Content-Type"]), (500, "text/html"))
        self.assertEqual(self.search(query="cat __503")[0], 503)
        self.assertEqual(self.search(query="cat __401")[0], 401)
        st, _, body = self.search(query="cat __badjson")
        self.assertEqual(st, 200)
        self.assertRaises(ValueError, json.loads, body)
        st, h, _ = self.search(query="cat __html")
        self.assertEqual((st, h["Content-Type"]), (200, "text/html"))
        t = time.time()
        self.assertEqual(self.search(query="cat __slow")[0], 200)
        self.assertGreaterEqual(time.time() - t, 0.3)
        st, _, body = self.search(query="cat __huge")
        self.assertGreater(len(body), 19 * 1024 * 1024)
        js(body)

    def test_scenario_times_and_rate_limit(self):
        req("POST", self.base + "/__scenario", json.dumps({"mode": "503", "times": 2}).encode(),
            {"Content-Type": "application/json"})
        self.assertEqual([self.search(query="cat")[0] for _ in range(3)], [503, 503, 200])
        req("POST", self.base + "/__scenario", json.dumps({"ratelimit_remaining": 1}).encode(),
            {"Content-Type": "application/json"})
        st, h, _ = self.search(query="cat")
        self.assertEqual((st, h["X-Ratelimit-Remaining"]), (200, "0"))
        st, h, body = self.search(query="cat")
        self.assertEqual((st, body, h["X-Ratelimit-Remaining"]), (403, b"Rate Limit Exceeded", "0"))

    def test_photo_download_and_record(self):
        p = js(self.search(query="tulip", per_page=1)[2])["results"][0]
        st, _, body = req("GET", "%s/photos/%s" % (self.base, p["id"]), headers=self.auth)
        full = js(body)
        self.assertEqual(st, 200)
        self.assertEqual(full["urls"], p["urls"])
        for k in ("exif", "location", "downloads", "tags"):
            self.assertIn(k, full)
        st, _, body = req("GET", self.base + "/photos/doesnotexist", headers=self.auth)
        self.assertEqual((st, js(body)), (404, {"errors": ["Couldn't find Photo"]}))
        self.assertEqual(req("GET", self.base + "/photos/Ab3dEfGhIjK", headers=self.auth)[0], 404)
        st, _, body = req("GET", p["links"]["download_location"], headers=self.auth)
        self.assertEqual(st, 200)
        self.assertIn("url", js(body))
        self.assertEqual(req("GET", p["links"]["download_location"])[0], 401)
        self.assertEqual(req("GET", "%s/photos/%s/download" % (self.base, p["id"]),
                             headers=self.auth)[0], 400)
        recs = js(req("GET", self.base + "/__requests")[2])
        dl = [r for r in recs if r["path"].endswith("/download") and r["query"].get("ixid")]
        self.assertTrue(dl and dl[0]["headers"]["Authorization"] == "Client-ID test-access-key")
        with open(self.rec) as f:
            self.assertTrue(any('/download' in line for line in f))
        req("DELETE", self.base + "/__requests")
        self.assertEqual(js(req("GET", self.base + "/__requests")[2]), [])

    def test_images(self):
        p = js(self.search(query="tulip", per_page=1)[2])["results"][0]
        st, h, body = req("GET", p["urls"]["raw"] + "&w=2000&h=2000&fit=max&fm=jpg&q=85")
        im = Image.open(io.BytesIO(body))
        self.assertEqual((st, h["Content-Type"], im.format), (200, "image/jpeg", "JPEG"))
        self.assertLessEqual(max(im.size), 2000)
        self.assertEqual(max(im.size), 2000)
        st, h, body = req("GET", p["urls"]["raw"] + "&w=20000&fit=max&fm=png")
        im = Image.open(io.BytesIO(body))
        self.assertEqual((im.format, im.size), ("PNG", (p["width"], p["height"])))  # never enlarged
        st, h, body = req("GET", p["urls"]["raw"] + "&w=300&fm=webp")
        self.assertEqual(Image.open(io.BytesIO(body)).format, "WEBP")
        st, h, _ = req("GET", self.base + "/img/img-redirect-meta?w=10")
        self.assertEqual((st, h["Location"]), (302, "http://169.254.169.254/latest/meta-data/"))
        st, h, _ = req("GET", self.base + "/img/img-redirect-local?w=10")
        self.assertEqual(st, 302)
        self.assertTrue(h["Location"].startswith(self.base + "/img/"))
        st, h, body = req("GET", self.base + "/img/img-huge-30mb")
        self.assertEqual((st, len(body)), (200, 30 * 1024 * 1024))
        self.assertEqual(req("GET", self.base + "/img/img-missing")[0], 404)
        t = time.time()
        st, _, body = req("GET", self.base + "/img/img-slow?w=50")
        self.assertGreaterEqual(time.time() - t, 0.3)
        Image.open(io.BytesIO(body)).load()
        d = js(self.search(query="__specials", per_page=30)[2])
        self.assertIn("img-redirect-meta", [r["id"] for r in d["results"]])
        self.assertEqual(req("GET", self.base + "/photos/img-huge-30mb", headers=self.auth)[0], 200)

    def test_survives_garbage(self):
        host, port = self.base[7:].split(":")
        with socket.create_connection((host, int(port))) as s:
            s.sendall(b"\x16\x03\x01garbage\r\n\r\n")
            s.recv(1000)
        self.assertEqual(self.search(query="cat")[0], 200)


class RemoveBgTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.base = start("fake_removebg.py", "--rate-mp", "100")
        cls.key = {"X-Api-Key": "test-removebg-key"}

    @classmethod
    def tearDownClass(cls):
        stop(cls.proc)

    def setUp(self):
        req("POST", self.base + "/__reset")

    def scenario(self, **d):
        req("POST", self.base + "/__scenario", json.dumps(d).encode(),
            {"Content-Type": "application/json"})

    def post(self, fields=None, image=None, headers=None, key=True):
        files = {"image_file": ("photo.jpg", "image/jpeg", image)} if image is not None else {}
        body, h = multipart(fields or {}, files)
        h.update(headers or {})
        if key:
            h.update(self.key)
        return req("POST", self.base + "/v1.0/removebg", body, h)

    def test_success_multipart(self):
        st, h, body = self.post({"size": "full"}, jpeg(1200, 800))
        self.assertEqual((st, h["Content-Type"]), (200, "image/png"))
        im = Image.open(io.BytesIO(body))
        self.assertEqual((im.mode, im.size), ("RGBA", (1200, 800)))
        self.assertEqual(im.getpixel((0, 0))[3], 0)
        self.assertEqual(im.getpixel((600, 400))[3], 255)
        self.assertEqual((h["X-Width"], h["X-Height"], h["X-Credits-Charged"]), ("1200", "800", "1"))
        for k in ("X-Type", "X-Foreground-Top", "X-Foreground-Left", "X-Foreground-Width",
                  "X-Foreground-Height", "X-RateLimit-Limit", "X-RateLimit-Remaining"):
            self.assertIn(k, h)
        self.assertGreater(int(h["X-RateLimit-Reset"]), time.time())
        st, h, body = self.post({}, jpeg(1200, 800))  # default preview
        im = Image.open(io.BytesIO(body))
        self.assertLessEqual(im.size[0] * im.size[1], 250000)
        self.assertEqual(h["X-Credits-Charged"], "0.25")

    def test_options(self):
        st, h, body = self.post({"crop": "true", "bg_color": "fff", "format": "png"}, jpeg(400, 400))
        im = Image.open(io.BytesIO(body))
        self.assertEqual(im.size, (240, 320))
        self.assertEqual(im.getpixel((0, 0)), (255, 255, 255, 255))
        st, h, body = self.post({"bg_color": "81d4fa"}, jpeg(400, 400))  # auto+opaque -> JPG
        self.assertEqual(h["Content-Type"], "image/jpeg")
        st, h, body = self.post({"channels": "alpha"}, jpeg(400, 400))
        self.assertEqual(Image.open(io.BytesIO(body)).mode, "L")
        st, h, body = self.post({"format": "zip"}, jpeg(400, 400))
        self.assertEqual((st, h["Content-Type"]), (200, "application/zip"))

    def test_json_and_b64(self):
        b64 = base64.b64encode(jpeg(300, 200)).decode()
        st, h, body = req("POST", self.base + "/removebg",
                          json.dumps({"image_file_b64": b64, "size": "auto"}).encode(),
                          dict(self.key, **{"Content-Type": "application/json",
                                            "Accept": "application/json"}))
        d = js(body)["data"]
        self.assertEqual(Image.open(io.BytesIO(base64.b64decode(d["result_b64"]))).size, (300, 200))
        self.assertEqual((d["foreground_left"], d["foreground_top"]), (60, 20))
        st, h, body = req("POST", self.base + "/removebg",
                          urllib.parse.urlencode({"image_file_b64": b64}).encode(),
                          dict(self.key, **{"Content-Type": "application/x-www-form-urlencoded"}))
        self.assertEqual((st, h["Content-Type"]), (200, "image/png"))

    def test_errors(self):
        def e(resp):
            return resp[0], js(resp[2])["errors"][0]
        img = jpeg()
        self.assertEqual(e(self.post({}, img, key=False)), (403, {"title": "Missing API Key"}))
        self.assertEqual(e(self.post({}, img, key=False, headers={"X-Api-Key": "bad"})),
                         (403, {"title": "API Key invalid", "code": "auth_failed"}))
        self.assertEqual(e(self.post({"size": "full"}))[1]["code"], "missing_source")
        self.assertEqual(e(self.post({"image_url": "http://x/"}, img))[1]["code"], "multiple_sources")
        self.assertEqual(e(self.post({"size": "huge"}, img))[1]["code"], "invalid_size")
        self.assertEqual(e(self.post({"bg_color": "#12345"}, img))[1]["code"], "invalid_bg_color")
        self.assertEqual(self.post({"crop": "maybe"}, img)[0], 400)
        self.assertEqual(self.post({"format": "gif"}, img)[0], 400)
        self.assertEqual(e(self.post({}, b"hello, not an image")),
                         (400, {"title": "Failed to read image", "code": "failed_to_read_image"}))
        self.assertEqual(e(self.post({}, b"\xff\xd8\xff" + b"\0" * (23 * 1024 * 1024)))[1]["code"],
                         "file_too_large")
        buf = io.BytesIO()
        Image.new("L", (8000, 7000)).save(buf, "PNG")
        self.assertEqual(e(self.post({}, buf.getvalue()))[1]["code"], "resolution_too_high")
        buf = io.BytesIO()
        Image.new("RGB", (10, 10)).save(buf, "GIF")
        self.assertEqual(e(self.post({}, buf.getvalue()))[1]["code"], "invalid_file_type")

    def test_fails_twice_then_succeeds(self):
        self.scenario(mode="500", times=2)
        self.assertEqual([self.post({}, jpeg())[0] for _ in range(3)], [500, 500, 200])

    def test_per_request_scenarios(self):
        st, h, body = self.post({"type": "__503"}, jpeg())
        self.assertEqual((st, body), (503, b""))
        st, h, body = self.post({}, png_with_text("fakescenario=garbage;"))
        self.assertEqual((st, h["Content-Type"]), (200, "image/png"))
        self.assertRaises(Exception, Image.open, io.BytesIO(body))
        st, h, body = self.post({"type": "__jpeg_as_png"}, jpeg())
        self.assertEqual((h["Content-Type"], Image.open(io.BytesIO(body)).format), ("image/png", "JPEG"))
        st, h, body = self.post({"type": "__oversized"}, jpeg())
        self.assertEqual(len(body), 60 * 1024 * 1024)
        t = time.time()
        self.assertEqual(self.post({}, png_with_text("fakedelay=400;"))[0], 200)
        self.assertGreaterEqual(time.time() - t, 0.4)
        self.scenario(delay_ms=300)
        t = time.time()
        self.assertEqual(self.post({}, jpeg())[0], 200)
        self.assertGreaterEqual(time.time() - t, 0.3)

    def test_rate_limit_and_credits(self):
        self.scenario(rate_used=99)
        self.assertEqual(self.post({}, jpeg())[0], 200)
        st, h, body = self.post({}, jpeg())
        self.assertEqual((st, js(body)), (429, {"errors": [{"title": "Rate limit exceeded"}]}))
        self.assertGreaterEqual(int(h["Retry-After"]), 1)
        self.assertEqual(h["X-RateLimit-Remaining"], "0")
        req("POST", self.base + "/__reset")
        self.scenario(credits=0.5)
        self.assertEqual(self.post({}, jpeg())[0], 200)  # preview: 0.25
        self.assertEqual(self.post({"size": "full"}, jpeg())[0], 402)
        st, _, body = req("GET", self.base + "/account", headers=self.key)
        self.assertEqual(js(body)["data"]["attributes"]["credits"]["total"], 0.25)
        self.assertEqual(req("GET", self.base + "/account")[0], 403)

    def test_image_url_from_unsplash_fake(self):
        proc, ubase = start("fake_unsplash.py")
        try:
            st, h, body = req("POST", self.base + "/removebg",
                              json.dumps({"image_url": ubase + "/img/AbCdEfGhIj1?w=500"}).encode(),
                              dict(self.key, **{"Content-Type": "application/json"}))
            self.assertEqual(st, 200)
            st, h, body = req("POST", self.base + "/removebg",
                              json.dumps({"image_url": ubase + "/img/img-missing"}).encode(),
                              dict(self.key, **{"Content-Type": "application/json"}))
            self.assertEqual(js(body)["errors"][0]["code"], "failed_image_download")
        finally:
            stop(proc)


class RembgTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.base = start("fake_rembg.py")

    @classmethod
    def tearDownClass(cls):
        stop(cls.proc)

    def post(self, image, fields=None, query=""):
        body, h = multipart(fields or {}, {"file": ("a.jpg", "image/jpeg", image)}
                            if image is not None else {})
        return req("POST", self.base + "/api/remove" + query, body, h)

    def test_success(self):
        st, h, body = self.post(jpeg(320, 240), {"model": "isnet-general-use"})
        im = Image.open(io.BytesIO(body))
        self.assertEqual((st, h["Content-Type"], im.mode, im.size), (200, "image/png", "RGBA", (320, 240)))
        self.assertEqual(im.getpixel((0, 0))[3], 0)
        self.assertEqual(im.getpixel((160, 120))[3], 255)
        st, h, body = self.post(jpeg(320, 240), query="?om=true")
        self.assertEqual(Image.open(io.BytesIO(body)).mode, "L")
        st, h, body = self.post(jpeg(320, 240), {"bgc": "255,0,0,255"})
        self.assertEqual(Image.open(io.BytesIO(body)).getpixel((0, 0)), (255, 0, 0, 255))

    def test_errors(self):
        st, _, body = self.post(None, {"model": "u2net"})
        self.assertEqual((st, js(body)), (422, {"detail": [{"loc": ["body", "file"],
                         "msg": "field required", "type": "value_error.missing"}]}))
        st, _, body = self.post(b"not an image")
        self.assertEqual(st, 400)
        self.assertIn("detail", js(body))
        self.assertEqual(self.post(jpeg(), {"model": "nope"})[0], 422)
        self.assertEqual(self.post(jpeg(), {"a": "perhaps"})[0], 422)
        self.assertEqual(req("GET", self.base + "/api/remove?url=http://x/")[0], 400)

    def test_scenarios(self):
        req("DELETE", self.base + "/__requests")
        req("POST", self.base + "/__scenario", b'{"mode":"500","times":1}',
            {"Content-Type": "application/json"})
        st, h, body = self.post(jpeg())
        self.assertEqual((st, body), (500, b"Internal Server Error"))
        self.assertEqual(self.post(jpeg())[0], 200)
        st, h, body = self.post(png_with_text("fakescenario=garbage;"))
        self.assertEqual((st, h["Content-Type"]), (200, "image/png"))
        self.assertRaises(Exception, Image.open, io.BytesIO(body))
        req("POST", self.base + "/__scenario", b'{"delay_ms":300}', {"Content-Type": "application/json"})
        t = time.time()
        self.assertEqual(self.post(jpeg())[0], 200)
        self.assertGreaterEqual(time.time() - t, 0.3)
        req("POST", self.base + "/__scenario", b'{"delay_ms":0}', {"Content-Type": "application/json"})
        self.assertEqual(len(js(req("GET", self.base + "/__requests")[2])), 4)


if __name__ == "__main__":
    unittest.main(verbosity=2)

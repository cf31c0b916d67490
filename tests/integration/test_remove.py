"""POST /api/remove through nginx: every input mode and option, each engine
(built-in, remove.bg fake, rembg fake), photo_id through the local library
and a fake Unsplash, error mappings, hostile input, SSRF refusals."""
import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import images  # noqa: E402
from stack import Fake, Stack  # noqa: E402

RB_KEY = "test-removebg-key-SECRET-98765"
US_KEY = "test-unsplash-key-SECRET-4321"


class Base(unittest.TestCase):
    stack = None

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        for f in getattr(cls, "fakes", []):
            f.stop()
        reports = cls.stack.sanitizer_reports()
        log = cls.stack.log()
        cls.stack.cleanup()
        if reports:
            raise AssertionError("sanitizer reports:\n" + "\n".join(reports))
        for secret in (RB_KEY, US_KEY):
            if secret in log:
                raise AssertionError("a key appeared in the daemon's log")

    def post(self, path="/api/remove", body=b"", ctype=None, **kw):
        headers = {"Content-Type": ctype} if ctype else {}
        return self.stack.request("POST", path, body=body, headers=headers, **kw)

    def assert_png(self, r, w=None, h=None):
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(r.header("Content-Type"), "image/png")
        self.assertEqual(r.body[:8], b"\x89PNG\r\n\x1a\n")
        img = images.decode(r.body)
        self.assertEqual(img.mode, "RGBA")
        self.assertEqual(str(img.width), r.header("X-Width"))
        self.assertEqual(str(img.height), r.header("X-Height"))
        if w:
            self.assertEqual((img.width, img.height), (w, h))
        return img

    def assert_error(self, r, status, code, param=None):
        self.assertEqual(r.status, status, r.body[:300])
        err = json.loads(r.body)["error"]
        self.assertEqual(err["code"], code, err)
        if param:
            self.assertEqual(err.get("param"), param)
        for secret in (RB_KEY, US_KEY):
            self.assertNotIn(secret.encode(), r.body)
        return err


class LocalEngineTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack().start()
        cls.jpeg = images.photo(640, 480)

    def test_raw_body(self):
        r = self.post(body=self.jpeg, ctype="image/jpeg")
        img = self.assert_png(r, 640, 480)
        self.assertEqual(r.header("X-Engine"), "local")
        self.assertEqual(r.header("Content-Disposition"),
                         'attachment; filename="image-cleanpng.png"')
        # the subject stays, the background goes
        self.assertGreater(img.getpixel((320, 300))[3], 200)
        self.assertLess(img.getpixel((10, 10))[3], 30)

    def test_multipart_fields_and_alias(self):
        for field in ("image_file", "file"):
            body, ct = images.multipart({"size": "preview"},
                                        [(field, "../../My Holiday (1).JPG", "image/jpeg", self.jpeg)])
            r = self.post(body=body, ctype=ct)
            img = self.assert_png(r)
            self.assertLessEqual(img.width * img.height, 250000)
            self.assertEqual(r.header("Content-Disposition"),
                             'attachment; filename="My-Holiday-1-cleanpng.png"')

    def test_png_and_webp_input(self):
        for fmt, ct in (("PNG", "image/png"), ("WEBP", "image/webp")):
            with self.subTest(fmt=fmt):
                self.assert_png(self.post(body=images.photo(320, 240, fmt), ctype=ct), 320, 240)

    def test_format_is_read_from_the_bytes(self):
        # a PNG sent as image/jpeg is still a PNG; it is accepted as what it is
        self.assert_png(self.post(body=images.photo(100, 80, "PNG"), ctype="image/jpeg"), 100, 80)

    def test_exif_orientation(self):
        r = self.post(body=images.photo(640, 480, exif_orientation=6), ctype="image/jpeg")
        self.assert_png(r, 480, 640)

    def test_options(self):
        full = images.decode(self.post(body=self.jpeg, ctype="image/jpeg").body)
        cropped = self.assert_png(self.post("/api/remove?crop=true", body=self.jpeg,
                                            ctype="image/jpeg"))
        self.assertLess(cropped.width, full.width)
        self.assertLess(cropped.height, full.height)
        margin = self.assert_png(self.post("/api/remove?crop=true&crop_margin=10px",
                                           body=self.jpeg, ctype="image/jpeg"))
        self.assertEqual(margin.width, min(cropped.width + 20, 640))
        bg = self.assert_png(self.post("/api/remove?bg_color=00ff00", body=self.jpeg,
                                       ctype="image/jpeg"))
        self.assertEqual(bg.getpixel((5, 5)), (0, 255, 0, 255))
        self.assertEqual(min(bg.getchannel("A").getdata()), 255)
        r = self.post("/api/remove?format=webp", body=self.jpeg, ctype="image/jpeg")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "image/webp")
        self.assertEqual(r.body[8:12], b"WEBP")
        self.assertTrue(r.header("Content-Disposition").endswith('-cleanpng.webp"'))

    def test_photo_id_from_library(self):
        body, ct = images.multipart({"photo_id": "coffee-cup", "size": "preview"}, [])
        for path, b, c in [("/api/remove?photo_id=coffee-cup&size=preview", b"", None),
                           ("/api/remove", body, ct),
                           ("/api/remove", b'{"photo_id":"coffee-cup","size":"preview"}',
                            "application/json"),
                           ("/api/remove", b"photo_id=coffee-cup&size=preview",
                            "application/x-www-form-urlencoded")]:
            with self.subTest(ctype=c):
                r = self.post(path, body=b, ctype=c)
                self.assert_png(r)
                self.assertEqual(r.header("Content-Disposition"),
                                 'attachment; filename="coffee-cup-cleanpng.png"')
        self.assert_error(self.post("/api/remove?photo_id=no-such-photo"), 404, "photo_not_found")

    def test_bad_options(self):
        for q, param in [("size=huge", "size"), ("crop=maybe", "crop"),
                         ("bg_color=red", "bg_color"), ("bg_color=12345", "bg_color"),
                         ("crop_margin=lots", "crop_margin"), ("format=gif", "format"),
                         ("size=full&size=preview", "size")]:
            with self.subTest(q=q):
                self.assert_error(self.post("/api/remove?" + q, body=self.jpeg,
                                            ctype="image/jpeg"), 400, "invalid_parameter", param)

    def test_hostile_input(self):
        truncated_jpeg = self.jpeg[:len(self.jpeg) // 2]
        png = images.photo(200, 150, "PNG")
        no_file_body, no_file_ct = images.multipart({"size": "full"}, [])
        two_files, two_ct = images.multipart({}, [("image_file", "a.jpg", "image/jpeg", self.jpeg),
                                                  ("file", "b.jpg", "image/jpeg", self.jpeg)])
        cases = [
            ("png claiming 100000x100000", images.png_claiming(100000, 100000), "image/png",
             422, "image_too_large"),
            ("png claiming 8000x8000 (64 MP)", images.png_claiming(8000, 8000), "image/png",
             422, "image_too_large"),
            ("png claiming 25000x10", images.png_claiming(25000, 10), "image/png",
             422, "image_too_large"),
            ("jpeg claiming 65000x65000", images.jpeg_claiming(65000, 65000), "image/jpeg",
             422, "image_too_large"),
            ("truncated jpeg", truncated_jpeg, "image/jpeg", 422, "invalid_image"),
            ("truncated png", png[:len(png) - 40], "image/png", 422, "invalid_image"),
            ("png header only", png[:33], "image/png", 422, "invalid_image"),
            ("text named png", b"this is not an image at all\n" * 10, "image/png",
             415, "unsupported_media_type"),
            ("gif", images.gif(), "image/gif", 415, "unsupported_media_type"),
            ("zero bytes", b"", "image/png", 422, "invalid_image"),
            ("multipart without the file", no_file_body, no_file_ct, 400, "missing_parameter"),
            ("two files", two_files, two_ct, 400, "invalid_parameter"),
            ("text/plain body", b"hello", "text/plain", 415, "unsupported_media_type"),
            ("broken multipart", b"--x\r\nContent-Disposition: form-data; name=\"image_file\"\r\n"
             b"\r\nabc", "multipart/form-data; boundary=x", 400, "invalid_parameter"),
            ("multipart without boundary", b"abc", "multipart/form-data", 400,
             "invalid_parameter"),
            ("json not an object", b"[1,2]", "application/json", 400, "invalid_parameter"),
        ]
        for name, body, ctype, status, code in cases:
            with self.subTest(name=name):
                self.assert_error(self.post(body=body, ctype=ctype), status, code)
        for pid in ["../etc/passwd", "a/b", "..", "a.jpg", "http://127.0.0.1/x",
                    "%2e%2e%2fetc", "x" * 65, ""]:
            with self.subTest(photo_id=pid):
                r = self.post("/api/remove?" + urllib.parse.urlencode({"photo_id": pid}))
                self.assertIn(r.status, (400,), r.body)
        for url in ["http://127.0.0.1/", "http://localhost/", "http://[::1]/", "http://0x7f.1/",
                    "http://2130706433/", "http://169.254.169.254/latest/meta-data/",
                    "http://[::ffff:127.0.0.1]/"]:
            with self.subTest(image_url=url):
                self.assert_error(self.post("/api/remove?" + urllib.parse.urlencode(
                    {"image_url": url})), 400, "invalid_parameter", "image_url")
                self.assert_error(self.post(body=json.dumps({"image_url": url}).encode(),
                                            ctype="application/json"),
                                  400, "invalid_parameter", "image_url")
        self.assert_error(self.stack.get("/api/remove"), 405, "method_not_allowed")
        # still serving, nothing crashed
        self.assert_png(self.post(body=png, ctype="image/png"), 200, 150)
        self.assertNotIn("worker_died", self.stack.log())

    def test_too_large_body_is_refused_by_nginx(self):
        body = b"\xff\xd8\xff" + b"\0" * (23 * 1024 * 1024)
        r = self.post(body=body, ctype="image/jpeg")
        self.assert_error(r, 413, "payload_too_large")


class RemoveBgEngineTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.fake = Fake("fake_removebg.py", "--api-key", RB_KEY)
        cls.fakes = [cls.fake]
        cls.stack = Stack(env={"CLEANPNG_REMOVEBG_API_KEY": RB_KEY,
                               "CLEANPNG_REMOVEBG_API_URL": cls.fake.url + "/v1.0",
                               "CLEANPNG_ENGINE_TIMEOUT_MS": "1500"}).start()
        cls.jpeg = images.photo(640, 480)

    def setUp(self):
        self.fake.reset()

    def scenario(self, **kw):
        self.fake.call("POST", "/__scenario", kw)

    def test_success_and_what_we_sent(self):
        r = self.post("/api/remove?size=full&crop=true&bg_color=ff0000", body=self.jpeg,
                      ctype="image/jpeg")
        img = self.assert_png(r)
        self.assertEqual(r.header("X-Engine"), "removebg")
        self.assertEqual(img.getpixel((0, 0)), (255, 0, 0, 255))  # our bg_color
        sent = self.fake.requests()
        self.assertEqual(len(sent), 1)
        s = sent[0]
        self.assertEqual(s["path"], "/v1.0/removebg")
        headers = {k.lower(): v for k, v in s["headers"].items()}
        self.assertEqual(headers["x-api-key"], RB_KEY)
        parts = {p["name"]: p for p in s["multipart"]}
        self.assertEqual(parts["image_file"]["size"], len(self.jpeg))
        self.assertEqual(parts["size"]["value"], "full")
        self.assertNotIn(RB_KEY.encode(), r.body)
        self.assertNotIn(RB_KEY, json.dumps([dict(h) for h in [r.headers]]))

    def test_error_mapping(self):
        cases = [
            ("failed_to_read_image", 422, "invalid_image"),
            ("unknown_foreground", 422, "invalid_image"),
            ("402", 503, "upstream_quota"),
            ("429", 503, "upstream_quota"),
            ("403", 502, "upstream_error"),
            ("503", 502, "upstream_error"),
            ("garbage", 502, "upstream_error"),
            ("jpeg", 502, "upstream_error"),
            ("jpeg_as_png", 502, "upstream_error"),
            ("truncated", 502, "upstream_error"),
            ("oversized", 502, "upstream_error"),
            ("drop", 502, "upstream_error"),
            ("slow", 504, "upstream_timeout"),
        ]
        for mode, status, code in cases:
            with self.subTest(mode=mode):
                self.scenario(mode=mode)
                r = self.post(body=self.jpeg, ctype="image/jpeg")
                err = self.assert_error(r, status, code)
                self.assertNotIn("Insufficient", err["message"])
                if mode == "429":
                    self.assertTrue(int(r.header("Retry-After")) > 0)
        self.scenario(mode="ok")
        self.assertIn("upstream_auth_failed engine=removebg", self.stack.log())

    def test_5xx_is_retried_then_recovers(self):
        self.scenario(mode="500", times=2)
        self.assert_png(self.post(body=self.jpeg, ctype="image/jpeg"))
        self.assertEqual(len(self.fake.requests()), 3)
        self.fake.reset()
        self.scenario(mode="500")
        self.assert_error(self.post(body=self.jpeg, ctype="image/jpeg"), 502, "upstream_error")
        self.assertEqual(len(self.fake.requests()), 3)  # at most 3 attempts
        self.scenario(mode="ok")

    def test_429_is_not_retried(self):
        self.scenario(mode="429")
        self.post(body=self.jpeg, ctype="image/jpeg")
        self.assertEqual(len(self.fake.requests()), 1)
        self.scenario(mode="ok")


class RembgEngineTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.fake = Fake("fake_rembg.py")
        cls.fakes = [cls.fake]
        cls.stack = Stack(env={"CLEANPNG_REMOVE_ENGINE": "rembg",
                               "CLEANPNG_REMBG_URL": cls.fake.url}).start()

    def test_success_with_our_options(self):
        jpeg = images.photo(400, 300)
        r = self.post("/api/remove?crop=true&bg_color=0000ff&size=preview", body=jpeg,
                      ctype="image/jpeg")
        img = self.assert_png(r)
        self.assertEqual(r.header("X-Engine"), "rembg")
        self.assertLess(img.width, 400)
        self.assertEqual(img.getpixel((0, 0))[3], 255)
        s = self.fake.requests()[-1]
        self.assertEqual(s["path"], "/api/remove")
        self.assertEqual([p["name"] for p in s["multipart"]], ["file"])

    def test_errors(self):
        jpeg = images.photo(200, 150)
        for mode, status, code in [("500", 502, "upstream_error"), ("garbage", 502,
                                                                     "upstream_error"),
                                   ("drop", 502, "upstream_error")]:
            with self.subTest(mode=mode):
                self.fake.call("POST", "/__scenario", {"mode": mode})
                self.assert_error(self.post(body=jpeg, ctype="image/jpeg"), status, code)
        self.fake.call("POST", "/__scenario", {"mode": "ok"})


class UnsplashPhotoTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.fake = Fake("fake_unsplash.py", "--access-key", US_KEY, "--limit", "100000",
                        "--slow-ms", "3000")
        cls.fakes = [cls.fake]
        cls.stack = Stack(env={"CLEANPNG_UNSPLASH_ACCESS_KEY": US_KEY,
                               "CLEANPNG_UNSPLASH_API_URL": cls.fake.url,
                               "CLEANPNG_IMAGE_HOSTS": "127.0.0.1",
                               "CLEANPNG_FETCH_ALLOW_HTTP": "1",
                               "CLEANPNG_FETCH_ALLOW_LOOPBACK": "1"}).start()

    def setUp(self):
        self.fake.reset()

    def first_id(self, q):
        r = self.stack.get("/api/search?" + urllib.parse.urlencode({"q": q, "per_page": 30}))
        return [x["id"] for x in r.json()["results"]]

    def test_photo_id_reports_download_and_fetches_bounded(self):
        pid = self.first_id("dog")[0]
        self.fake.reset()
        r = self.post("/api/remove?" + urllib.parse.urlencode({"photo_id": pid, "size": "preview"}))
        self.assert_png(r)
        self.assertEqual(r.header("Content-Disposition"),
                         f'attachment; filename="{pid}-cleanpng.png"')
        paths = [x["path"] for x in self.fake.requests()]
        self.assertIn(f"/photos/{pid}", paths)
        self.assertIn(f"/photos/{pid}/download", paths)
        dl = [x for x in self.fake.requests() if x["path"].endswith("/download")][0]
        self.assertIn("ixid", dl["query"])
        img = [x for x in self.fake.requests() if x["path"].startswith("/img/")][0]
        self.assertEqual(img["query"]["fit"], "max")
        self.assertEqual(img["query"]["w"], "1000")
        # the image host never gets our key
        self.assertNotIn("authorization", {k.lower() for k in img["headers"]})

    def test_unknown_and_special_photos(self):
        self.assert_error(self.post("/api/remove?photo_id=doesnotexist"), 404, "photo_not_found")
        cases = {
            "img-redirect-local": (200, None),
            "img-redirect-meta": (422, "fetch_refused"),
            "img-redirect-loop": (422, "fetch_refused"),
            "img-huge-30mb": (413, "payload_too_large"),
            "img-huge-chunked": (413, "payload_too_large"),
            "img-garbage": (415, "unsupported_media_type"),
            "img-truncated": (422, "invalid_image"),
            "img-missing": (502, "upstream_error"),
        }
        for pid, (status, code) in cases.items():
            with self.subTest(photo_id=pid):
                r = self.post("/api/remove?" + urllib.parse.urlencode(
                    {"photo_id": pid, "size": "preview"}))
                if status == 200:
                    self.assert_png(r)
                else:
                    self.assert_error(r, status, code)

    def test_loopback_is_refused_without_the_test_flag(self):
        stack = Stack(env={"CLEANPNG_UNSPLASH_ACCESS_KEY": US_KEY,
                           "CLEANPNG_UNSPLASH_API_URL": self.fake.url,
                           "CLEANPNG_IMAGE_HOSTS": "127.0.0.1,localhost",
                           "CLEANPNG_FETCH_ALLOW_HTTP": "1"}).start()
        try:
            pid = self.first_id("cat")[0]
            self.fake.reset()
            r = stack.request("POST", "/api/remove?photo_id=" + pid)
            self.assertEqual(r.status, 422, r.body)
            self.assertEqual(json.loads(r.body)["error"]["code"], "fetch_refused")
            self.assertFalse([x for x in self.fake.requests() if x["path"].startswith("/img/")])
        finally:
            stack.stop()
            stack.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)

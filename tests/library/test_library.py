#!/usr/bin/python3
"""Checks a built CleanPNG demo image library (see scripts/build-library).

Usage:
    /usr/bin/python3 tests/library/test_library.py [LIBRARY_DIR] [unittest options]

LIBRARY_DIR defaults to $CLEANPNG_LIBRARY_DIR, then var/library in the
repository. Standard library only: JPEG sizes are read from the file headers.
"""

import json
import os
import re
import struct
import sys
import unittest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIBRARY_DIR = os.environ.get("CLEANPNG_LIBRARY_DIR") or os.path.join(REPO_ROOT, "var", "library")

ID_RE = re.compile(r"^[a-z0-9-]{1,40}$")
COLOR_RE = re.compile(r"^#[0-9a-f]{6}$")
FULL_MAX = 2400
WIDTHS = {"regular": 1080, "small": 400, "thumb": 200}
SUFFIX = {"full": "", "regular": "-1080", "small": "-400", "thumb": "-200"}
MIN_PHOTOS = 5


def jpeg_size(path):
    """Return (width, height) from a JPEG's SOF marker; raise ValueError if not a JPEG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:3] != b"\xff\xd8\xff":
        raise ValueError("not a JPEG (no SOI marker)")
    i = 2
    n = len(data)
    while i < n:
        if data[i] != 0xFF:
            raise ValueError("corrupt JPEG marker at %d" % i)
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            break
        marker = data[i]
        i += 1
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            continue
        if marker == 0xD9:
            break
        if i + 2 > n:
            break
        (length,) = struct.unpack(">H", data[i:i + 2])
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", data[i + 3:i + 7])
            if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
                raise ValueError("truncated JPEG (no EOI marker)")
            return width, height
        i += length
    raise ValueError("no SOF marker found")


def expected_size(width, height, target):
    if target >= width:
        return width, height
    return target, max(1, round(height * target / width))


class LibraryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = LIBRARY_DIR
        path = os.path.join(cls.dir, "manifest.json")
        if not os.path.isfile(path):
            raise AssertionError("no manifest at %s; run scripts/build-library first" % path)
        with open(path, encoding="utf-8") as f:
            cls.manifest = json.load(f)
        cls.photos = cls.manifest.get("photos", [])

    def test_manifest_header(self):
        self.assertEqual(self.manifest.get("version"), 1)
        self.assertIsInstance(self.manifest.get("name"), str)
        self.assertIsInstance(self.photos, list)
        self.assertGreaterEqual(len(self.photos), MIN_PHOTOS)

    def test_ids_unique_and_well_formed(self):
        ids = [p.get("id") for p in self.photos]
        for i in ids:
            self.assertIsInstance(i, str)
            self.assertRegex(i, ID_RE)
        self.assertEqual(len(ids), len(set(ids)), "duplicate ids")

    def test_metadata(self):
        for p in self.photos:
            with self.subTest(id=p.get("id")):
                for key in ("title", "description"):
                    self.assertIsInstance(p.get(key), str)
                    self.assertTrue(p[key].strip())
                self.assertIsInstance(p.get("tags"), list)
                self.assertTrue(p["tags"])
                for t in p["tags"]:
                    self.assertIsInstance(t, str)
                    self.assertTrue(t.strip())
                author = p.get("author")
                self.assertIsInstance(author, dict)
                self.assertTrue(author.get("name"))
                self.assertIn("url", author)
                self.assertTrue(author["url"] is None or isinstance(author["url"], str))
                src = p.get("source")
                self.assertIsInstance(src, dict)
                self.assertTrue(src.get("package"))
                self.assertTrue(src.get("file"))
                self.assertRegex(p.get("color", ""), COLOR_RE)
                self.assertIsInstance(p.get("width"), int)
                self.assertIsInstance(p.get("height"), int)

    def test_licences(self):
        for p in self.photos:
            with self.subTest(id=p.get("id")):
                lic = p.get("licence")
                self.assertIsInstance(lic, dict)
                self.assertTrue(lic.get("name"))
                self.assertRegex(lic.get("url", ""), r"^https?://\S+$")

    def test_files_are_jpegs_of_their_size_class(self):
        for p in self.photos:
            with self.subTest(id=p.get("id")):
                files = p.get("files")
                self.assertIsInstance(files, dict)
                self.assertEqual(set(files), set(SUFFIX))
                for cls, suffix in SUFFIX.items():
                    self.assertEqual(files[cls], p["id"] + suffix + ".jpg")
                    path = os.path.join(self.dir, files[cls])
                    self.assertTrue(os.path.isfile(path), "missing %s" % path)
                    size = jpeg_size(path)
                    if cls == "full":
                        self.assertEqual(size, (p["width"], p["height"]))
                        self.assertLessEqual(max(size), FULL_MAX)
                    else:
                        want = expected_size(p["width"], p["height"], WIDTHS[cls])
                        self.assertEqual(size[0], want[0], "%s width" % files[cls])
                        self.assertLessEqual(abs(size[1] - want[1]), 1, "%s height" % files[cls])

    def test_credits_present(self):
        path = os.path.join(self.dir, "CREDITS.md")
        self.assertTrue(os.path.isfile(path))
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for p in self.photos:
            self.assertIn(p["id"], text)

    def _matches(self, word):
        word = word.lower()
        hits = []
        for p in self.photos:
            words = set(re.findall(r"[a-z0-9]+", p.get("title", "").lower()))
            for t in p.get("tags", []):
                words.add(t.lower())
                words.update(re.findall(r"[a-z0-9]+", t.lower()))
            if word in words:
                hits.append(p["id"])
        return hits

    def test_apple_finds_a_photo(self):
        self.assertTrue(self._matches("apple"),
                        "no photo tagged or titled 'apple' (install opencv-doc for the "
                        "optional red-apple photo; see scripts/library-sources.json)")

    def test_common_words_find_photos(self):
        for word in ("cat", "coffee", "rocket", "astronaut", "flower", "fruit", "dog"):
            with self.subTest(word=word):
                self.assertTrue(self._matches(word), "nothing matches %r" % word)


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        LIBRARY_DIR = sys.argv.pop(1)
    unittest.main()

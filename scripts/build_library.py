#!/usr/bin/python3
"""Build CleanPNG's demo image library for the `local` search provider.

Reads scripts/library-sources.json (a list of photos shipped in Debian
packages, with their metadata and licences), converts every photo whose source
file is installed to progressive sRGB JPEGs in four sizes, and writes
manifest.json and CREDITS.md into the output folder.

Run it through scripts/build-library (which uses Debian's /usr/bin/python3 with
python3-pil and python3-numpy).  It installs nothing: the Debian packages it
reads from are listed in scripts/deps-library.txt.

Output, for each photo <id>:
    <id>.jpg        full size, longest side <= 2400 px
    <id>-1080.jpg   "regular", 1080 px wide (never enlarged)
    <id>-400.jpg    "small", 400 px wide (never enlarged)
    <id>-200.jpg    "thumb", 200 px wide (never enlarged)

A rebuild is skipped when nothing that goes into the library changed (sources
file, this script, and each source file's size and mtime); --force rebuilds.
"""

import argparse
import bz2
import hashlib
import io
import json
import os
import re
import sys
import tempfile
import time

try:
    from PIL import Image, ImageCms, ImageOps, ImageStat
except ImportError:  # pragma: no cover - environment problem
    sys.exit("build_library: Pillow is missing; run with Debian's /usr/bin/python3 "
             "and install python3-pil (see scripts/deps-library.txt)")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
DEFAULT_SOURCES = os.path.join(HERE, "library-sources.json")
DEFAULT_OUT = os.path.join(REPO_ROOT, "var", "library")

MANIFEST_VERSION = 1
LIBRARY_NAME = "CleanPNG demo library"
MIN_PHOTOS = 5
ID_RE = re.compile(r"^[a-z0-9-]{1,40}$")
STAMP_FILE = ".build-stamp"

FULL_MAX = 2400
# size class -> (file suffix, target width)
WIDTH_CLASSES = (("regular", "-1080", 1080), ("small", "-400", 400), ("thumb", "-200", 200))
JPEG_OPTS = dict(quality=85, progressive=True, optimize=True)
# Bump when the output format changes so existing libraries get rebuilt.
BUILDER_FORMAT = "1"


def log(msg):
    print("build-library: " + msg, file=sys.stderr)


def load_sources(path):
    with open(path, "r", encoding="utf-8") as f:
        doc = json.load(f)
    photos = doc.get("photos")
    if not isinstance(photos, list):
        raise ValueError("%s: 'photos' must be a list" % path)
    seen = set()
    for i, p in enumerate(photos):
        where = "%s: photos[%d]" % (path, i)
        for key in ("id", "package", "path", "title", "description", "tags", "author", "licence"):
            if key not in p:
                raise ValueError("%s: missing %r" % (where, key))
        if not ID_RE.match(p["id"]):
            raise ValueError("%s: bad id %r (want [a-z0-9-]{1,40})" % (where, p["id"]))
        if p["id"] in seen:
            raise ValueError("%s: duplicate id %r" % (where, p["id"]))
        seen.add(p["id"])
        if not isinstance(p["tags"], list) or not all(isinstance(t, str) and t for t in p["tags"]):
            raise ValueError("%s: tags must be a list of non-empty strings" % where)
        if not p["author"].get("name"):
            raise ValueError("%s: author.name is required" % where)
        if not p["licence"].get("name") or not p["licence"].get("url"):
            raise ValueError("%s: licence needs a name and a url" % where)
    return photos


def fingerprint(sources_path, photos):
    h = hashlib.sha256()
    h.update(BUILDER_FORMAT.encode())
    for path in (sources_path, os.path.abspath(__file__)):
        with open(path, "rb") as f:
            h.update(f.read())
    for p in photos:
        try:
            st = os.stat(p["path"])
            h.update(("%s|%d|%d\n" % (p["path"], st.st_size, int(st.st_mtime))).encode())
        except OSError:
            h.update(("%s|missing\n" % p["path"]).encode())
    return h.hexdigest()


def load_image(p):
    """Return the source as an RGB PIL image in sRGB."""
    loader = p.get("loader") or {"type": "image"}
    kind = loader.get("type", "image")
    if kind == "raw-bz2":
        # e.g. scipy.misc.face(): bz2-compressed raw uint8 pixels, shape [h, w, 3]
        h, w, c = loader["shape"]
        with open(p["path"], "rb") as f:
            raw = bz2.decompress(f.read())
        if c != 3 or len(raw) != h * w * c:
            raise ValueError("raw data does not match shape %r" % (loader["shape"],))
        return Image.frombytes("RGB", (w, h), raw)
    if kind != "image":
        raise ValueError("unknown loader type %r" % kind)

    im = Image.open(p["path"])
    im.load()
    im = ImageOps.exif_transpose(im)
    icc = im.info.get("icc_profile")
    # 16-bit greyscale and similar: scale down to 8 bits.
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        im = im.point(lambda v: v * (1.0 / 256)).convert("L")
    elif im.mode == "F":
        im = im.convert("L")
    # Flatten transparency onto white.
    if im.mode in ("P", "PA", "LA", "RGBA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        bg.alpha_composite(im)
        im = bg
    if im.mode == "CMYK" and not icc:
        im = im.convert("RGB")
    # Convert embedded non-sRGB profiles to sRGB.
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            in_mode = im.mode if im.mode in ("RGB", "CMYK", "L") else "RGB"
            if im.mode != in_mode:
                im = im.convert(in_mode)
            im = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
        except Exception as e:  # broken profile: keep the pixels as they are
            log("warning: %s: ignoring ICC profile (%s)" % (p["id"], e))
    return im.convert("RGB")


def resized(im, width):
    w, h = im.size
    if width >= w:
        return im
    return im.resize((width, max(1, round(h * width / w))), Image.LANCZOS)


def fit_longest(im, longest):
    w, h = im.size
    if max(w, h) <= longest:
        return im
    if w >= h:
        return resized(im, longest)
    nw = max(1, round(w * longest / h))
    return im.resize((nw, longest), Image.LANCZOS)


def average_colour(im):
    small = im.resize((64, 64), Image.BOX)
    r, g, b = (int(round(v)) for v in ImageStat.Stat(small).mean[:3])
    return "#%02x%02x%02x" % (r, g, b)


def save_jpeg(im, path):
    tmp = path + ".tmp"
    im.save(tmp, "JPEG", **JPEG_OPTS)
    os.replace(tmp, path)


def build_photo(p, out):
    im = load_image(p)
    full = fit_longest(im, FULL_MAX)
    files = {"full": p["id"] + ".jpg"}
    save_jpeg(full, os.path.join(out, files["full"]))
    for cls, suffix, width in WIDTH_CLASSES:
        name = p["id"] + suffix + ".jpg"
        save_jpeg(resized(full, width), os.path.join(out, name))
        files[cls] = name
    source = {"package": p["package"], "file": p["path"]}
    if p.get("source_url"):
        source["url"] = p["source_url"]
    entry = {
        "id": p["id"],
        "title": p["title"],
        "description": p["description"],
        "tags": p["tags"],
        "author": {"name": p["author"]["name"], "url": p["author"].get("url")},
        "licence": {"name": p["licence"]["name"], "url": p["licence"]["url"]},
        "source": source,
        "width": full.size[0],
        "height": full.size[1],
        "color": average_colour(full),
        "files": files,
    }
    if p.get("licence_note"):
        entry["licence"]["note"] = p["licence_note"]
    return entry


def md_escape(s):
    return s.replace("|", "\\|")


def write_credits(out, entries):
    lines = [
        "# CleanPNG demo library: credits and licences",
        "",
        "These photos come from Debian packages and were converted to JPEG",
        "(resized, re-encoded, metadata stripped) by `scripts/build-library`.",
        "Each keeps its own licence, listed below; where a licence requires",
        "attribution (CC BY, CC BY-SA, MIT, BSD), this file and `manifest.json`",
        "provide it. Photos under CC BY-SA 3.0 remain under that licence,",
        "including these resized copies.",
        "",
    ]
    for e in entries:
        a = e["author"]
        author = "[%s](%s)" % (a["name"], a["url"]) if a.get("url") else a["name"]
        lic = e["licence"]
        lines.append("## %s (`%s`)" % (e["title"], e["id"]))
        lines.append("")
        lines.append("- Author: %s" % author)
        lines.append("- Licence: [%s](%s)" % (lic["name"], lic["url"]))
        if lic.get("note"):
            lines.append("- Note: %s" % lic["note"])
        src = e["source"]
        lines.append("- Source: Debian package `%s`, file `%s`" % (src["package"], src["file"]))
        if src.get("url"):
            lines.append("- Original: %s" % src["url"])
        lines.append("")
    tmp = os.path.join(out, "CREDITS.md.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    os.replace(tmp, os.path.join(out, "CREDITS.md"))


def write_json(path, obj):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".manifest.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def old_files(out):
    try:
        with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
            doc = json.load(f)
        return {name for ph in doc.get("photos", []) for name in ph.get("files", {}).values()}
    except (OSError, ValueError):
        return set()


def up_to_date(out, stamp):
    try:
        with open(os.path.join(out, STAMP_FILE), encoding="utf-8") as f:
            if f.read().strip() != stamp:
                return False
        with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return False
    for ph in doc.get("photos", []):
        for name in ph.get("files", {}).values():
            if not os.path.isfile(os.path.join(out, name)):
                return False
    return os.path.isfile(os.path.join(out, "CREDITS.md"))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Build CleanPNG's demo image library.")
    ap.add_argument("--out", default=DEFAULT_OUT,
                    help="output folder (default: var/library in the repository)")
    ap.add_argument("--sources", default=DEFAULT_SOURCES, help="photo list (default: scripts/library-sources.json)")
    ap.add_argument("--force", action="store_true", help="rebuild even if up to date")
    ap.add_argument("--min-photos", type=int, default=MIN_PHOTOS,
                    help="fail if fewer photos than this were built (default %d)" % MIN_PHOTOS)
    args = ap.parse_args(argv)

    t0 = time.monotonic()
    try:
        photos = load_sources(args.sources)
    except (OSError, ValueError) as e:
        log("error: cannot read sources: %s" % e)
        return 2
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    stamp = fingerprint(args.sources, photos)
    if not args.force and up_to_date(out, stamp):
        log("library in %s is up to date" % out)
        return 0

    previous = old_files(out)
    entries, missing, failed = [], [], []
    for p in photos:
        if not os.path.isfile(p["path"]):
            if p.get("optional"):
                log("note: optional photo %s skipped (package %s not installed)" % (p["id"], p["package"]))
            else:
                log("warning: skipping %s: %s not found (install Debian package %s)"
                    % (p["id"], p["path"], p["package"]))
                missing.append(p["package"])
            continue
        try:
            entries.append(build_photo(p, out))
        except Exception as e:
            log("warning: skipping %s: cannot convert %s: %s" % (p["id"], p["path"], e))
            failed.append(p["id"])

    if len(entries) < args.min_photos:
        log("error: only %d photo(s) built, need at least %d; install the packages in "
            "scripts/deps-library.txt" % (len(entries), args.min_photos))
        return 1

    manifest = {"version": MANIFEST_VERSION, "name": LIBRARY_NAME, "photos": entries}
    write_credits(out, entries)
    write_json(os.path.join(out, "manifest.json"), manifest)

    current = {name for e in entries for name in e["files"].values()}
    for name in previous - current:
        if "/" not in name and name.endswith(".jpg"):
            try:
                os.remove(os.path.join(out, name))
            except OSError:
                pass

    # Only remember the build as complete when nothing required was missing,
    # so installing a package later triggers a rebuild.
    stamp_path = os.path.join(out, STAMP_FILE)
    if not missing and not failed:
        with open(stamp_path, "w", encoding="utf-8") as f:
            f.write(stamp + "\n")
    elif os.path.exists(stamp_path):
        os.remove(stamp_path)

    log("built %d photos in %s (%.1fs)%s" % (
        len(entries), out, time.monotonic() - t0,
        "; missing packages: " + " ".join(sorted(set(missing))) if missing else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

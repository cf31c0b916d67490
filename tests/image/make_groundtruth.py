#!/usr/bin/python3
"""Builds the ground-truth set for the built-in engine's quality benchmark.

Each case is a subject with a real alpha matte composited over a background of
a given difficulty. Deterministic: the same seed gives byte-identical files.

Subjects: large icons from Debian's adwaita-icon-theme (real antialiased
alpha) and synthetic cut-outs (photo content from python3-skimage inside a
smooth blob-shaped matte, and a flat-coloured "figure" with thin parts).
Backgrounds, by difficulty: flat, gradient, noise, texture (skimage brick,
grass, gravel), photo (skimage photographs).

Writes <out>/<case>.png (RGB input), <out>/<case>.gt.png (L, true alpha) and
<out>/manifest.tsv (case, difficulty, subject, width, height).

Needs Debian's /usr/bin/python3 with python3-numpy, python3-pil,
python3-skimage and the adwaita-icon-theme package (scripts/deps-engine.txt).
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image, ImageFilter

VERSION = 3
ICON_DIR = "/usr/share/icons/Adwaita/512x512"
SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"
ICONS = [
    "devices/camera-web.png", "devices/input-gaming.png", "devices/printer.png",
    "devices/audio-headphones.png", "devices/computer.png", "devices/input-keyboard.png",
    "places/user-home.png", "places/folder-music.png", "mimetypes/package-x-generic.png",
    "devices/media-optical.png", "devices/phone.png", "devices/scanner.png",
]
PHOTO_SUBJECTS = ["chelsea.png", "coffee.png", "astronaut.png"]
TEXTURES = ["brick.png", "grass.png", "gravel.png"]
PHOTOS = ["rocket.jpg", "motorcycle_left.png", "hubble_deep_field.jpg", "retina.jpg"]
DIFFICULTIES = ["flat", "gradient", "noise", "texture", "photo"]
BACKDROPS = [(245, 245, 245), (30, 30, 34), (200, 200, 205), (40, 90, 200), (0, 177, 64),
             (225, 205, 170), (170, 40, 40), (120, 150, 170)]


def load_rgba(path):
    return np.asarray(Image.open(path).convert("RGBA"), dtype=np.float32) / 255.0


def load_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0


def resize(arr, w, h):
    """Resizes a float image in [0,1] (H,W[,C]) with Lanczos via PIL."""
    chans = 1 if arr.ndim == 2 else arr.shape[2]
    planes = [arr] if chans == 1 else [arr[:, :, c] for c in range(chans)]
    out = [np.asarray(Image.fromarray(p.astype(np.float32), mode="F").resize(
        (w, h), Image.LANCZOS)) for p in planes]
    res = out[0] if chans == 1 else np.stack(out, axis=2)
    return np.clip(res, 0.0, 1.0)


def blob_alpha(rng, size, lobes=5):
    """A smooth star-ish blob matte (supersampled, so edges are antialiased)."""
    ss = 4
    n = size * ss
    y, x = np.mgrid[0:n, 0:n].astype(np.float32)
    cx = cy = n / 2.0
    ang = np.arctan2(y - cy, x - cx)
    rad = np.hypot(x - cx, y - cy) / (n / 2.0)
    r = 0.72 + sum(rng.uniform(0.03, 0.12) * np.cos(k * ang + rng.uniform(0, 6.28))
                   for k in range(2, 2 + lobes))
    inside = (rad < r).astype(np.float32)
    return inside.reshape(size, ss, size, ss).mean(axis=(1, 3))


def figure_alpha(size):
    """A flat-shaded "figure" with thin limbs (ellipses and capsules)."""
    ss = 4
    n = size * ss
    y, x = np.mgrid[0:n, 0:n].astype(np.float32) / n
    def ell(cx, cy, rx, ry):
        return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1
    def capsule(x0, y0, x1, y1, r):
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0, 1)
        return (x - x0 - t * dx) ** 2 + (y - y0 - t * dy) ** 2 <= r * r
    m = (ell(0.5, 0.17, 0.1, 0.12) | ell(0.5, 0.47, 0.16, 0.22) |
         capsule(0.38, 0.35, 0.16, 0.62, 0.035) | capsule(0.62, 0.35, 0.86, 0.55, 0.035) |
         capsule(0.44, 0.65, 0.38, 0.96, 0.05) | capsule(0.56, 0.65, 0.64, 0.96, 0.05))
    return m.astype(np.float32).reshape(size, ss, size, ss).mean(axis=(1, 3))


def make_subject(rng, index, size):
    """Returns (rgb, alpha, name) of a size x size subject."""
    kind = index % 4
    if kind in (0, 1):
        name = ICONS[(index // 2) % len(ICONS)]
        rgba = resize(load_rgba(os.path.join(ICON_DIR, name)), size, size)
        return rgba[:, :, :3], rgba[:, :, 3], "icon:" + name
    if kind == 2:
        name = PHOTO_SUBJECTS[(index // 4) % len(PHOTO_SUBJECTS)]
        photo = load_rgb(os.path.join(SKIMAGE_DATA, name))
        h, w = photo.shape[:2]
        s = min(h, w)
        y0, x0 = (h - s) // 2, (w - s) // 2
        rgb = resize(photo[y0:y0 + s, x0:x0 + s], size, size)
        return rgb, blob_alpha(rng, size), "blob:" + name
    alpha = figure_alpha(size)
    base = rng.uniform(0.1, 0.9, 3).astype(np.float32)
    shade = np.linspace(1.15, 0.8, size, dtype=np.float32)[:, None, None]
    rgb = np.clip(base[None, None, :] * shade * np.ones((size, size, 3), np.float32), 0, 1)
    return rgb, alpha, "figure"


def make_background(rng, difficulty, w, h):
    if difficulty == "flat":
        c = np.array(BACKDROPS[rng.integers(len(BACKDROPS))], np.float32) / 255
        return np.ones((h, w, 3), np.float32) * c
    if difficulty == "gradient":
        c0 = np.array(BACKDROPS[rng.integers(len(BACKDROPS))], np.float32) / 255
        c1 = np.clip(c0 + rng.uniform(-0.35, 0.35, 3), 0, 1).astype(np.float32)
        ang = rng.uniform(0, 2 * np.pi)
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        t = (np.cos(ang) * (x / w - 0.5) + np.sin(ang) * (y / h - 0.5)) + 0.5
        t = np.clip(t, 0, 1)[:, :, None]
        vign = 1 - 0.25 * (((x / w - 0.5) ** 2 + (y / h - 0.5) ** 2) * 2)[:, :, None]
        return np.clip((c0 * (1 - t) + c1 * t) * vign, 0, 1)
    if difficulty == "noise":
        c = np.array(BACKDROPS[rng.integers(len(BACKDROPS))], np.float32) / 255
        blot = rng.normal(0, 1, (h // 32 + 1, w // 32 + 1, 3)).astype(np.float32)
        blot = resize((blot * 0.08 + 0.5).clip(0, 1), w, h) - 0.5
        fine = rng.normal(0, 0.07, (h, w, 3)).astype(np.float32)
        return np.clip(c + blot + fine, 0, 1)
    if difficulty == "texture":
        tex = load_rgb(os.path.join(SKIMAGE_DATA, TEXTURES[rng.integers(len(TEXTURES))]))
        if tex.ndim == 2:
            tex = np.repeat(tex[:, :, None], 3, axis=2)
        tint = rng.uniform(0.6, 1.2, 3).astype(np.float32)
        return np.clip(resize(tex, w, h) * tint, 0, 1)
    photo = load_rgb(os.path.join(SKIMAGE_DATA, PHOTOS[rng.integers(len(PHOTOS))]))
    return resize(photo, w, h)


def make_case(rng, index, difficulty, w, h):
    bg = make_background(rng, difficulty, w, h)
    size = int(min(w, h) * rng.uniform(0.55, 0.8))
    rgb, alpha, name = make_subject(rng, index, size)
    # Most subjects float; every fifth touches the bottom edge like a portrait.
    touch = index % 5 == 4
    x0 = int(rng.integers(w // 20, w - size - w // 20))
    y0 = h - size + int(size * 0.1) if touch else int(rng.integers(h // 20, h - size - h // 20))
    full_a = np.zeros((h, w), np.float32)
    full_rgb = np.zeros((h, w, 3), np.float32)
    ys, ye = y0, min(h, y0 + size)
    full_a[ys:ye, x0:x0 + size] = alpha[:ye - ys]
    full_rgb[ys:ye, x0:x0 + size] = rgb[:ye - ys]
    a = full_a[:, :, None]
    comp = full_rgb * a + bg * (1 - a)
    comp = comp + rng.normal(0, 0.012, comp.shape).astype(np.float32)  # sensor noise
    img = (np.clip(comp, 0, 1) * 255 + 0.5).astype(np.uint8)
    gt = (full_a * 255 + 0.5).astype(np.uint8)
    return img, gt, name


def build(out, quick, seed=6, force=False):
    """Builds the set in `out` unless an identical one is already there."""
    per = 2 if quick else 8
    w, h = (800, 600) if quick else (1024, 768)
    stamp = "version=%d seed=%d quick=%d per=%d size=%dx%d\n" % (VERSION, seed, quick, per, w, h)
    stamp_path = os.path.join(out, "stamp.txt")
    if not force and os.path.exists(stamp_path):
        with open(stamp_path) as f:
            if f.read() == stamp:
                return
    os.makedirs(out, exist_ok=True)
    rows = []
    for d, difficulty in enumerate(DIFFICULTIES):
        for i in range(per):
            rng = np.random.default_rng([seed, d, i])
            index = i if not quick else i * 3 + d
            img, gt, name = make_case(rng, index, difficulty, w, h)
            case = "%s-%02d" % (difficulty, i)
            Image.fromarray(img, "RGB").save(os.path.join(out, case + ".png"))
            Image.fromarray(gt, "L").save(os.path.join(out, case + ".gt.png"))
            rows.append("%s\t%s\t%s\t%d\t%d\n" % (case, difficulty, name, w, h))
    with open(os.path.join(out, "manifest.tsv"), "w") as f:
        f.writelines(rows)
    with open(stamp_path, "w") as f:
        f.write(stamp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--quick", action="store_true", help="small subset for the test suite")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    build(args.out, args.quick, args.seed, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())

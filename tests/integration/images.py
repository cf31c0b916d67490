"""Test images made on the fly (Debian's python3-pil): real ones, and hostile
ones built byte by byte."""
import io
import random
import struct
import zlib

from PIL import Image, ImageDraw


def photo(w=640, h=480, fmt="JPEG", exif_orientation=None, seed=1):
    """A subject (ellipse) on a soft gradient: something an engine can cut."""
    rnd = random.Random(seed)
    img = Image.new("RGB", (w, h))
    px = img.load()
    for y in range(h):
        for x in range(0, w):
            px[x, y] = (200 + (x * 40) // w, 210 + (y * 30) // h, 220)
    d = ImageDraw.Draw(img)
    d.ellipse([w * 0.3, h * 0.2, w * 0.7, h * 0.85], fill=(rnd.randint(100, 180), 40, 30))
    out = io.BytesIO()
    kw = {}
    if exif_orientation:
        ex = Image.Exif()
        ex[0x0112] = exif_orientation
        kw["exif"] = ex.tobytes()
    if fmt == "JPEG":
        kw["quality"] = 90
    img.save(out, fmt, **kw)
    return out.getvalue()


def noise_png(target_bytes):
    """An incompressible PNG of about target_bytes."""
    side = int((target_bytes / 3) ** 0.5)
    rnd = random.Random(7)
    raw = bytes(rnd.getrandbits(8) for _ in range(side * side * 3))
    img = Image.frombytes("RGB", (side, side), raw)
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=0)
    return out.getvalue()


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xffffffff)


def png_claiming(w, h):
    """A PNG whose header claims w x h (valid CRC), with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) +
            _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))


def jpeg_claiming(w, h):
    """A real JPEG with its SOF0 dimensions rewritten."""
    data = bytearray(photo(64, 48))
    i = 2
    while i < len(data):
        marker = data[i + 1]
        seglen = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC2):
            struct.pack_into(">HH", data, i + 5, h, w)
            return bytes(data)
        i += 2 + seglen
    raise AssertionError("no SOF")


def gif():
    out = io.BytesIO()
    Image.new("RGB", (10, 10), (255, 0, 0)).save(out, "GIF")
    return out.getvalue()


def multipart(fields, files, boundary="----cleanpngTestBoundary7MA4YWxk"):
    """fields: {name: value}; files: [(field, filename, content_type, bytes)]."""
    parts = []
    for k, v in fields.items():
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n"
                     .encode() + v.encode() + b"\r\n")
    for field, filename, ctype, data in files:
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
                     f"filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n".encode() +
                     data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def decode(png_bytes):
    return Image.open(io.BytesIO(png_bytes))

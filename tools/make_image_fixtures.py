#!/usr/bin/python3
"""make_image_fixtures.py — golden fixtures for tests/test-image.c.

Writes small PNG/JPEG images of every kind the engine decodes into tests/fixtures/images/, and
for each what PIL 9.4 / torchvision 0.14 make of it:

  <image>.rgb               ImageOps.exif_transpose(Image.open(p)).convert("RGB") as raw bytes
  <image>.<cfg>.u8          CenterCrop(crop)(Resize(resize, interp)(img)) as raw bytes (HWC)
  <image>.<cfg>.f32         ... then ToTensor + Normalize, float32 little-endian (CHW)
  index.json                one record per line: which file, which cfg, which expectation

Run with the Python that has PIL + torchvision (Debian's):  /usr/bin/python3 tools/make_image_fixtures.py
The images are synthetic and deterministic; PNGs are written by a small encoder here because PIL
cannot write 16-bit RGB, interlaced or low-bit-depth PNGs with chosen filters.

One deliberate difference from PIL is recorded rather than copied: a 16-bit GRAY PNG opens in
PIL as mode "I" and convert("RGB") clips each 16-bit value to 255 (nearly all white). The engine
keeps the high byte, so the expected decode of gray16_*.png is the high byte, and its resize
expectations start from that.
"""
import base64
import io
import json
import os
import struct
import sys
import warnings
import zlib

import numpy as np
import torch
from PIL import Image, ImageOps
from torchvision import transforms as T

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "images")
WOLF_REL = "../../../../shared/data/images/wolf.png"  # relative to OUT
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

rng = np.random.RandomState(20240611)

# A 24×17 Adobe YCCK JPEG (transform 2). PIL cannot write one; this was made with libjpeg-turbo
# (jpeg_set_colorspace(JCS_YCCK) on CMYK input) and is stored here so the fixtures stay reproducible.
YCCK_JPEG_B64 = (
    "/9j/7gAOQWRvYmUAZAAAAAAC/9sAQwADAgIDAgIDAwMDBAMDBAUIBQUEBAUKBwcGCAwKDAwLCgsLDQ4SEA0OEQ4LCxAWEBET"
    "FBUVFQwPFxgWFBgSFBUU/9sAQwEDBAQFBAUJBQUJFA0LDRQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU"
    "FBQUFBQUFBQUFBQU/8AAFAgAEQAYBAEiAAIRAQMRAQQiAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQ"
    "AAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5"
    "OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TF"
    "xsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/EAB8BAAMBAQEBAQEBAQEAAAAAAAABAgMEBQYHCAkKC//EALUR"
    "AAIBAgQEAwQHBQQEAAECdwABAgMRBAUhMQYSQVEHYXETIjKBCBRCkaGxwQkjM1LwFWJy0QoWJDThJfEXGBkaJicoKSo1Njc4"
    "OTpDREVGR0hJSlNUVVZXWFlaY2RlZmdoaWpzdHV2d3h5eoKDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLD"
    "xMXGx8jJytLT1NXW19jZ2uLj5OXm5+jp6vLz9PX29/j5+v/aAA4EAQACEQMRBAAAPwD658R/FNbQSYdPLBPU8dPXv+fb3ryv"
    "Wvi5PdzSrbhpTCPmw20DHuenX8e1eIeMPiRJLdvAJwd7bcsR8uOTnkZwP89q8+8Q/E2N/wBzaTG0t2PLDjYdvA5xk8KOvvXf"
    "iMrxlfG1KdKUo04Pl934pStdpN+7FRVnKUtEmumq+j4p4Fgk3ya7nxf4O8IyuMxp5kTsW+Rim8jkjjHXOPyr2jwd4PUS29vH"
    "EI32riRlwATg89M9M4OeT7VJ4S8Lk3MSRrsKHBCuVwCeuzAyTk4x6ZPBr2zwT4P3eTmIFEVv3bhQeABwCOvHOTxn6ivc9W+L"
    "E6XRW7vQ0e5WdI2G/jAxnpnHfkZ7HNFfJmqfEmL7TLJ5rW0LMqmUJ5k0gOPuqSDggcDIBOAOpIK9L/V7FzhHldSem6lN/lXo"
    "/L3FfdNo/metwPU9vP2cKa/xql+HtE39xH4R8FtNl4oFcO2XBPJYD0/4EemeeOlFezeFPBDBQSoTgGLzGwctxhvfgn2waK6v"
    "xR/yMFx/1ym/9lrx3U/+QFef9dG/9BFFFfoOL/hz9ax/pDxP8MvmfMHgn/j+tv8ArlH/AOhivcPCn/IFg/65f+zGiiuY8T/8"
    "hay/3z/6BRRRX6Jg/wCLjP8Ar/P/ANIpn8nZp/vPyX5s9p8MdLP/AK6RUUUV/9k="
)



def scene(w, h, ch=3, noise=18.0):
    """A photo-like test pattern: gradients, a disc, stripes, and noise (exercises rounding)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.empty((h, w, 3))
    out[..., 0] = 255 * x / max(w - 1, 1)
    out[..., 1] = 255 * y / max(h - 1, 1)
    out[..., 2] = 128 + 100 * np.sin(x / 3.0) * np.cos(y / 5.0)
    disc = (x - w * 0.6) ** 2 + (y - h * 0.4) ** 2 < (min(w, h) * 0.25) ** 2
    out[disc] = (250, 30, 60)
    out[(x.astype(int) // 4) % 7 == 0] *= 0.3
    out += rng.normal(0, noise, out.shape)
    out = np.clip(np.round(out), 0, 255).astype(np.uint8)
    if ch == 1:
        return out[..., 1]
    return out


# ---------------------------------------------------------------------------------------------
# A minimal PNG writer: any color type / bit depth, all five filters, Adam7.

def _chunk(tag, data):
    c = struct.pack(">I", len(data)) + tag + data
    return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _filter_rows(rows, bpp):
    """Filter each raw row with type (index % 5): None, Sub, Up, Average, Paeth."""
    out = bytearray()
    prev = bytes(len(rows[0])) if rows else b""
    for i, row in enumerate(rows):
        ft = i % 5
        f = bytearray(len(row))
        for j, v in enumerate(row):
            a = row[j - bpp] if j >= bpp else 0
            b = prev[j]
            c = prev[j - bpp] if j >= bpp else 0
            pred = (0, a, b, (a + b) // 2, _paeth(a, b, c))[ft]
            f[j] = (v - pred) & 0xFF
        out.append(ft)
        out += f
        prev = row
    return bytes(out)


def _pack_rows(samples, bit_depth):
    """samples (h, w*channels) ints -> list of packed row bytes."""
    rows = []
    for r in samples:
        if bit_depth == 16:
            rows.append(b"".join(struct.pack(">H", int(v)) for v in r))
        elif bit_depth == 8:
            rows.append(bytes(int(v) for v in r))
        else:
            per = 8 // bit_depth
            b = bytearray()
            for k in range(0, len(r), per):
                v = 0
                for m in range(per):
                    s = int(r[k + m]) if k + m < len(r) else 0
                    v |= s << (8 - bit_depth * (m + 1))
                b.append(v)
            rows.append(bytes(b))
    return rows


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(path, samples, color_type, bit_depth, palette=None, trns=None, interlace=False,
              exif=None, exif_after_idat=False):
    """samples: (h, w) or (h, w, channels) array of sample values (palette indices for type 3);
    exif: a TIFF block for an eXIf chunk, before the image data or after it."""
    s = samples if samples.ndim == 3 else samples[..., None]
    h, w, ch = s.shape
    bpp = max(1, ch * bit_depth // 8)
    if interlace:
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            sub = s[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            raw += _filter_rows(_pack_rows(sub.reshape(sub.shape[0], -1), bit_depth), bpp)
    else:
        raw = _filter_rows(_pack_rows(s.reshape(h, -1), bit_depth), bpp)
    data = b"\x89PNG\r\n\x1a\n"
    data += _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, int(interlace)))
    if palette is not None:
        data += _chunk(b"PLTE", bytes(np.asarray(palette, np.uint8).reshape(-1)))
    if trns is not None:
        data += _chunk(b"tRNS", trns)
    data += _chunk(b"tEXt", b"Comment\0vit-lens fixture")
    if exif is not None and not exif_after_idat:
        data += _chunk(b"eXIf", exif)
    # Split the image data over several IDAT chunks, as encoders do for large images.
    comp = zlib.compress(raw, 9)
    for k in range(0, len(comp), 700):
        data += _chunk(b"IDAT", comp[k:k + 700])
    if exif is not None and exif_after_idat:
        data += _chunk(b"eXIf", exif)
    data += _chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------------------------------------
# EXIF blocks for the orientation fixtures (both byte orders).

def exif_orientation(value, big_endian):
    e = ">" if big_endian else "<"
    head = (b"MM\0\x2a" if big_endian else b"II\x2a\0") + struct.pack(e + "I", 8)
    entries = [
        struct.pack(e + "HHI", 0x010F, 2, 4) + b"vit\0",          # Make "vit" (inline ASCII)
        struct.pack(e + "HHIHH", 0x0112, 3, 1, value, 0),          # Orientation SHORT
        struct.pack(e + "HHII", 0x0131, 4, 1, 7),                  # a LONG, to skip over
    ]
    ifd = struct.pack(e + "H", len(entries)) + b"".join(entries) + struct.pack(e + "I", 0)
    return b"Exif\0\0" + head + ifd


# ---------------------------------------------------------------------------------------------

def main():
    # PIL warns that palette transparency "should be converted to RGBA"; we convert to RGB.
    warnings.simplefilter("ignore", UserWarning)
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    records = []
    images = []  # (file, decoded PIL RGB image, note)

    def png(name, samples, ct, bd, **kw):
        write_png(os.path.join(OUT, name), samples, ct, bd, **kw)
        images.append(name)

    # PNGs of every color type and depth.
    png("rgb_61x47.png", scene(61, 47), 2, 8)
    png("rgb_37x83.png", scene(37, 83), 2, 8)                       # portrait
    png("rgb_20x13.png", scene(20, 13), 2, 8)                       # smaller than crops
    png("gray_45x39.png", scene(45, 39, 1), 0, 8)
    png("gray1_33x21.png", (scene(33, 21, 1) > 128).astype(np.uint8), 0, 1)
    png("gray4_29x23.png", scene(29, 23, 1) >> 4, 0, 4)
    g = scene(40, 30, 1)
    png("graya_40x30.png", np.dstack([g, 255 - g]), 4, 8)
    pal = rng.randint(0, 256, (200, 3))
    png("palette_50x35.png", rng.randint(0, 200, (35, 50)), 3, 8, palette=pal)
    pal16 = rng.randint(0, 256, (16, 3))
    png("palette4_trns_44x44.png", scene(44, 44, 1) >> 4, 3, 4, palette=pal16,
        trns=bytes(range(0, 160, 10)))
    # eXIf orientation (PIL's exif_transpose applies it to PNGs too), before and after IDAT.
    png("png_exif6_23x15.png", scene(23, 15), 2, 8, exif=exif_orientation(6, False)[6:])
    png("png_exif3_after_19x11.png", scene(19, 11), 2, 8, exif=exif_orientation(3, True)[6:],
        exif_after_idat=True)
    # A PLTE shorter than the indices used: PIL fills the missing entries with (i, i, i).
    png("palette_short_26x14.png", rng.randint(0, 256, (14, 26)), 3, 8, palette=pal[:5])
    png("rgba_57x41.png", np.dstack([scene(57, 41), scene(57, 41, 1)]), 6, 8)
    hi = scene(39, 29).astype(np.uint16)
    png("rgb16_39x29.png", hi * 256 + rng.randint(0, 256, hi.shape), 2, 16)
    g16 = scene(35, 27, 1).astype(np.uint16) * 256 + rng.randint(0, 256, (27, 35))
    png("gray16_35x27.png", g16, 0, 16)
    png("interlaced_53x37.png", scene(53, 37), 2, 8, interlace=True)
    rgba16 = np.dstack([scene(31, 19), scene(31, 19, 1)]).astype(np.uint16) * 257
    png("interlaced_rgba16_31x19.png", rgba16, 6, 16, interlace=True)
    png("rgb_trns_30x30.png", scene(30, 30), 2, 8, trns=struct.pack(">HHH", 250, 30, 60))

    # A PNG that declares 100000×100000 in a few hundred bytes (for the limit test).
    write_png(os.path.join(OUT, "huge_decl.png"), np.zeros((1, 1), np.uint8), 0, 8)
    with open(os.path.join(OUT, "huge_decl.png"), "r+b") as f:
        data = bytearray(f.read())
        data[16:24] = struct.pack(">II", 100000, 100000)
        data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
        f.seek(0)
        f.write(data)

    # JPEGs (PIL's encoder is libjpeg-turbo too).
    def jpeg(name, im, **kw):
        im.save(os.path.join(OUT, name), "JPEG", **kw)
        images.append(name)

    jpeg("jpeg_base_240x180.jpg", Image.fromarray(scene(240, 180, noise=6)), quality=90)
    jpeg("jpeg_prog_203x151.jpg", Image.fromarray(scene(203, 151, noise=6)), quality=85,
         progressive=True)
    jpeg("jpeg_444_89x57.jpg", Image.fromarray(scene(89, 57)), quality=95, subsampling=0)
    jpeg("jpeg_422_66x91.jpg", Image.fromarray(scene(66, 91)), quality=80, subsampling=1)
    jpeg("jpeg_gray_97x65.jpg", Image.fromarray(scene(97, 65, 1)), quality=90)
    cmyk = np.dstack([scene(71, 53), scene(71, 53, 1)])
    jpeg("jpeg_cmyk_71x53.jpg", Image.fromarray(cmyk, "CMYK"), quality=90)
    with open(os.path.join(OUT, "jpeg_ycck_24x17.jpg"), "wb") as f:
        f.write(base64.b64decode("".join(YCCK_JPEG_B64)))
    images.append("jpeg_ycck_24x17.jpg")
    for o, be in ((3, False), (6, False), (8, True)):
        jpeg(f"jpeg_exif{o}_75x51.jpg", Image.fromarray(scene(75, 51)), quality=90,
             exif=exif_orientation(o, be))
    # The other orientations: decode checks only (small).
    decode_only = {"palette_short_26x14.png", "png_exif3_after_19x11.png"}
    for o, be in ((2, True), (4, False), (5, True), (7, False)):
        jpeg(f"jpeg_exif{o}_27x19.jpg", Image.fromarray(scene(27, 19)), quality=90,
             exif=exif_orientation(o, be))
        decode_only.add(f"jpeg_exif{o}_27x19.jpg")

    # Expected decodes.
    decoded = {}
    for name in images:
        path = os.path.join(OUT, name)
        if name.startswith("gray16_"):
            # Deliberate difference (see the docstring): the high byte, not PIL's clip.
            raw = np.array(Image.open(path), dtype=np.int64)
            pil = np.array(Image.open(path).convert("RGB"))
            im = Image.fromarray((raw >> 8).astype(np.uint8), "L").convert("RGB")
            note = f"PIL would clip: {int((pil[..., 0] == 255).mean() * 100)}% white"
        else:
            im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
            note = Image.open(path).mode
        decoded[name] = im
        arr = np.asarray(im, np.uint8)
        arr.tofile(path + ".rgb")
        records.append(dict(kind="decode", file=name, width=im.width, height=im.height,
                            expect=name + ".rgb", note=note))

    interp = {"bicubic": T.InterpolationMode.BICUBIC, "bilinear": T.InterpolationMode.BILINEAR,
              "nearest": T.InterpolationMode.NEAREST}

    def expect(name, im, resize, crop, channels, mode, tensor=None, external=None):
        src = im.convert("L") if channels == 1 else im
        out = T.Compose([T.Resize(resize, interpolation=interp[mode]), T.CenterCrop(crop)])(src)
        arr = np.asarray(out, np.uint8)
        tag = f"r{resize}c{crop}-{mode}-c{channels}"
        rec = dict(kind="resize", file=name, resize=resize, crop=crop, channels=channels,
                   interp=mode, expect=f"{os.path.basename(name)}.{tag}.u8")
        if external:
            rec["external"] = 1
        arr.tofile(os.path.join(OUT, rec["expect"]))
        records.append(rec)
        if tensor:
            mean, std = tensor
            t = T.Compose([T.Resize(resize, interpolation=interp[mode]), T.CenterCrop(crop),
                           T.ToTensor(), T.Normalize(mean, std)])(src)
            assert t.dtype == torch.float32 and t.shape == (channels, crop, crop)
            trec = dict(rec, kind="tensor", expect=f"{os.path.basename(name)}.{tag}.f32",
                        mean=list(mean), std=list(std))
            t.numpy().astype("<f4").tofile(os.path.join(OUT, trec["expect"]))
            records.append(trec)

    for name in images:
        if name in decode_only:
            continue
        im = decoded[name]
        expect(name, im, 40, 32, 3, "bicubic")
        expect(name, im, 28, 28, 1, "bilinear")
        expect(name, im, 36, 33, 3, "nearest")
        expect(name, im, 24, 32, 3, "bicubic")      # crop larger than the short side: padding
        expect(name, im, 45, 40, 1, "bicubic")
    expect("rgb_61x47.png", decoded["rgb_61x47.png"], 40, 32, 3, "bicubic",
           tensor=(IMAGENET_MEAN, IMAGENET_STD))
    expect("gray_45x39.png", decoded["gray_45x39.png"], 28, 28, 1, "bilinear",
           tensor=((0.2860,), (0.3530,)))
    expect("jpeg_exif6_75x51.jpg", decoded["jpeg_exif6_75x51.jpg"], 36, 30, 3, "bilinear",
           tensor=((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)))
    expect("jpeg_base_240x180.jpg", decoded["jpeg_base_240x180.jpg"], 256, 224, 3, "bicubic")
    expect("jpeg_prog_203x151.jpg", decoded["jpeg_prog_203x151.jpg"], 248, 224, 3, "bicubic")

    wolf = os.path.normpath(os.path.join(OUT, WOLF_REL))
    if os.path.exists(wolf):
        im = Image.open(wolf).convert("RGB")
        arr = np.asarray(im, np.uint8)
        h = 0xCBF29CE484222325
        for b in arr.tobytes():  # FNV-1a 64 of the decoded RGB bytes
            h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        records.append(dict(kind="decode", file=WOLF_REL, width=im.width, height=im.height,
                            fnv=f"{h:016x}", external=1))
        expect(WOLF_REL, im, 256, 224, 3, "bicubic", external=True)
        expect(WOLF_REL, im, 28, 28, 1, "bilinear", external=True)
    else:
        print(f"note: {wolf} not found; no wolf fixtures", file=sys.stderr)

    with open(os.path.join(OUT, "index.json"), "w") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(r) for r in records))
        f.write("\n]\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"{len(records)} records, {len(os.listdir(OUT))} files, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()

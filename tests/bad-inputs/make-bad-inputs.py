#!/usr/bin/python3
"""make-bad-inputs.py — the bad-input catalogue: writes tests/bad-inputs/files/ (small broken
images and models, committed), cases.tsv (what tests/test-bad-inputs.sh runs and the exact
message each must give) and the table in README.md.

Developer tool, stdlib only. The .vitq and .vitl cases are exports of a tiny model made with the
CLI, then damaged:

    tests/bad-inputs/make-bad-inputs.py [VITLENS_CLI]

Each case: (name, kind, role, expected message, what it is). kind: file (committed), dir, fifo
or missing (made by the test at run time); role: image (given to classify with a good model) or
model (given as --model with a good image). The message is what follows "vitlens-cli: " on
stderr; the exit status is always 1.
"""
import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIX = os.path.join(ROOT, "tests", "fixtures")
OUT = os.path.join(HERE, "files")

spec = importlib.util.spec_from_file_location("seeds", os.path.join(ROOT, "tests", "fuzz", "make-seeds.py"))
seeds = importlib.util.module_from_spec(spec)
spec.loader.exec_module(seeds)

CASES = []


def case(name, kind, role, message, what, data=None, extra=None):
    """extra: {file name: bytes} written beside the input (a model's config.json, labels.txt);
    inputs with extras live in their own folder files/<name>/."""
    CASES.append((name, kind, role, message, what))
    if kind != "file":
        return
    if extra:
        d = os.path.join(OUT, os.path.splitext(name)[0])
        os.makedirs(d, exist_ok=True)
        for k, v in extra.items():
            with open(os.path.join(d, k), "wb") as f:
                f.write(v.encode() if isinstance(v, str) else v)
        path = os.path.join(d, name)
    else:
        path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)


def fixture(*p):
    with open(os.path.join(FIX, *p), "rb") as f:
        return f.read()


# ---- PNG helpers
def chunk(t, body, crc=None):
    c = zlib.crc32(t + body) & 0xFFFFFFFF if crc is None else crc
    return struct.pack(">I", len(body)) + t + body + struct.pack(">I", c)


SIG = b"\x89PNG\r\n\x1a\n"


def png(w, h, depth=8, ctype=2, idat=None, extra=b""):
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
    if idat is None:
        bpp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
        raw = b"".join(b"\0" + bytes((x * 7 + y) & 255 for x in range(w * bpp)) for y in range(h))
        idat = zlib.compress(raw)
    return SIG + ihdr + extra + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def find_chunk(data, t):
    pos = 8
    while pos + 8 <= len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        if data[pos + 4:pos + 8] == t:
            return pos
        pos += 12 + n
    raise ValueError(t)


def flip(data, at, mask=0x10):
    b = bytearray(data)
    b[at] ^= mask
    return bytes(b)


# ---- JPEG helpers
def jpeg_markers(data):
    pos, out = 2, []
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        m = data[pos + 1]
        n = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        out.append((m, pos, n))
        if m == 0xDA:
            break
        pos += 2 + n
    return out


def jpeg_patch_sof(data, w=None, h=None, precision=None, ncomp=None):
    b = bytearray(data)
    for m, pos, n in jpeg_markers(data):
        if m in (0xC0, 0xC1, 0xC2):
            if precision is not None:
                b[pos + 4] = precision
            if h is not None:
                b[pos + 5:pos + 7] = struct.pack(">H", h)
            if w is not None:
                b[pos + 7:pos + 9] = struct.pack(">H", w)
            if ncomp is not None:
                b[pos + 9] = ncomp
            return bytes(b)
    raise ValueError("no SOF")


# ---- safetensors helpers (the tiny models of tests/fuzz/make-seeds.py)
HEADS = json.dumps({"model_args": {"num_heads": 2}})


def tiny(**kw):
    return seeds.vit_tensors(8, 3, 2, 2, 1, 16, 3, **kw)


def st_parts(tensors, dtype="F32"):
    data = seeds.safetensors(tensors, None, dtype)
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def st_join(header, body, pad=True):
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + body


def float_at(header, body, name, index, value):
    off = header[name]["data_offsets"][0] + 4 * index
    b = bytearray(body)
    b[off:off + 4] = struct.pack("<f", value)
    return bytes(b)


def model(name, message, what, data, config=HEADS, extra=None):
    files = {"config.json": config} if config is not None else {}
    files.update(extra or {})
    case(name, "file", "model", message, what, data, files)


def patched(data, at, new):
    """data with the bytes at `at` replaced by `new`"""
    b = bytearray(data)
    b[at:at + len(new)] = new
    return bytes(b)


def future_version(ext, data, version):
    """The case of a .vitq or .vitl export (`data`) whose version field (bytes 4..8) says
    `version`, newer than this build reads"""
    model("future-version." + ext,
          "future-version.%s: .%s version %d was written by a newer ViT Lens; this one reads "
          "version 1" % (ext, ext, version), "a .%s from a future version" % ext,
          patched(data, 4, struct.pack("<I", version)), config=None)


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "app", "cli", "vitlens-cli")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)

    # ================================ images ================================
    good_png = fixture("images", "rgb_61x47.png")
    idat = find_chunk(good_png, b"IDAT")
    idat_len = struct.unpack(">I", good_png[idat:idat + 4])[0]
    case("png-cut-in-signature.png", "file", "image", "png-cut-in-signature.png: truncated PNG file",
         "the first 5 bytes of a PNG", good_png[:5])
    case("png-cut-after-ihdr.png", "file", "image", "png-cut-after-ihdr.png: truncated PNG file",
         "signature and IHDR only", good_png[:33])
    case("png-cut-in-idat.png", "file", "image", "png-cut-in-idat.png: truncated PNG file",
         "cut in the middle of the image data", good_png[:idat + 8 + idat_len // 2])
    case("png-ihdr-crc.png", "file", "image", "png-ihdr-crc.png: corrupt PNG: IHDR: CRC error",
         "one bit flipped in the IHDR chunk's CRC", flip(good_png, 29))
    case("png-idat-bitflip.png", "file", "image", "png-idat-bitflip.png: corrupt PNG: IDAT: CRC error",
         "one bit flipped in the compressed pixels", flip(good_png, idat + 8 + 40))
    case("png-bad-depth.png", "file", "image",
         "png-bad-depth.png: corrupt PNG: Invalid IHDR data",
         "bit depth 3 (with a valid CRC)", png(4, 4, depth=3, ctype=0))
    case("png-zlib-garbage.png", "file", "image",
         "png-zlib-garbage.png: truncated PNG file",
         "IDAT that is not a zlib stream, valid CRCs (libpng only warns, so the pixels end early)", png(4, 4, idat=b"garbage, not deflate"))
    case("png-no-idat.png", "file", "image", "png-no-idat.png: corrupt PNG: IEND: out of place",
         "IHDR then IEND: no pixels at all",
         SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)) + chunk(b"IEND", b""))
    case("png-palette-without-plte.png", "file", "image",
         "png-palette-without-plte.png: corrupt PNG: Missing PLTE before IDAT",
         "a palette image with no palette", png(4, 4, ctype=3))
    case("png-zero-width.png", "file", "image",
         "png-zero-width.png: image has zero width or height (0×16)", "IHDR says 0×16",
         png(0, 16, idat=zlib.compress(b"")))
    case("png-bomb-100000x100000.png", "file", "image",
         "png-bomb-100000x100000.png: image is 100000×100000 pixels; the limit is 16384 a side "
         "and 100 megapixels",
         "a 60-byte PNG declaring 10 gigapixels", png(100000, 100000, idat=zlib.compress(b"\0" * 64)))
    case("png-bomb-16385x1.png", "file", "image",
         "png-bomb-16385x1.png: image is 16385×1 pixels; the limit is 16384 a side and 100 "
         "megapixels", "one pixel over the side limit", png(16385, 1, ctype=0))
    case("png-bomb-12000x9000.png", "file", "image",
         "png-bomb-12000x9000.png: image is 12000×9000 pixels; the limit is 16384 a side and 100 "
         "megapixels", "108 megapixels, each side within the limit",
         png(12000, 9000, idat=zlib.compress(b"\0" * 64)))
    case("png-bomb-truncated-10000x10000.png", "file", "image",
         "png-bomb-truncated-10000x10000.png: truncated PNG file",
         "100 megapixels declared (within the limits), 2 rows of data",
         png(10000, 10000, ctype=0, idat=zlib.compress(b"\0" * 20002)))

    good_jpg = fixture("images", "jpeg_444_89x57.jpg")
    sos = [p for m, p, n in jpeg_markers(good_jpg) if m == 0xDA][0]
    case("jpeg-cut-2-bytes.jpg", "file", "image", "jpeg-cut-2-bytes.jpg: truncated JPEG file",
         "SOI only", good_jpg[:2])
    case("jpeg-cut-in-header.jpg", "file", "image", "jpeg-cut-in-header.jpg: truncated JPEG file",
         "cut inside the quantization tables", good_jpg[:100])
    case("jpeg-cut-in-scan.jpg", "file", "image", "jpeg-cut-in-scan.jpg: truncated JPEG file",
         "cut halfway through the entropy-coded data", good_jpg[:sos + (len(good_jpg) - sos) // 2])
    case("jpeg-12-bit.jpg", "file", "image",
         "jpeg-12-bit.jpg: unsupported JPEG: Unsupported JPEG data precision 12",
         "SOF precision byte changed to 12", jpeg_patch_sof(good_jpg, precision=12))
    case("jpeg-65535x65535.jpg", "file", "image",
         "jpeg-65535x65535.jpg: image is 65535×65535 pixels; the limit is 16384 a side and 100 "
         "megapixels", "SOF says 65535×65535 (libjpeg's own limit is 65500)",
         jpeg_patch_sof(good_jpg, w=65535, h=65535))
    case("jpeg-16385x57.jpg", "file", "image",
         "jpeg-16385x57.jpg: image is 16385×57 pixels; the limit is 16384 a side and 100 "
         "megapixels", "SOF width one over the side limit", jpeg_patch_sof(good_jpg, w=16385))
    case("jpeg-zero-height.jpg", "file", "image",
         "jpeg-zero-height.jpg: corrupt JPEG: Empty JPEG image (DNL not supported)",
         "SOF height 0", jpeg_patch_sof(good_jpg, h=0))
    case("jpeg-2-components.jpg", "file", "image",
         "jpeg-2-components.jpg: corrupt JPEG: Bogus marker length",
         "SOF component count changed to 2 (the segment no longer adds up)",
         jpeg_patch_sof(good_jpg, ncomp=2))
    dht = [p for m, p, n in jpeg_markers(good_jpg) if m == 0xC4][0]
    bad_dht = bytearray(good_jpg)
    for i in range(dht + 5, dht + 21):
        bad_dht[i] = 0xFF  # code counts that overflow the code space
    case("jpeg-bad-huffman.jpg", "file", "image",
         "jpeg-bad-huffman.jpg: corrupt JPEG: Bogus Huffman table definition",
         "a Huffman table whose code counts overflow", bytes(bad_dht))
    case("jpeg-no-image.jpg", "file", "image",
         "jpeg-no-image.jpg: corrupt JPEG: Invalid JPEG file structure: missing SOS marker",
         "the tables, then EOI: no frame, no scan", good_jpg[:sos] + b"\xff\xd9")
    case("not-an-image.png", "file", "image", "not-an-image.png: not a PNG or JPEG image",
         "a text file named .png", b"these are not the pixels you are looking for\n")
    case("gif-image.gif", "file", "image", "gif-image.gif: not a PNG or JPEG image",
         "a (tiny) GIF: not a format we read",
         b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00"
         b"\x01\x00\x00\x02\x02D\x01\x00;")
    case("empty.png", "file", "image", "empty.png: empty file", "zero bytes", b"")
    case("folder.png", "dir", "image", "folder.png: is a directory, not an image file",
         "a directory given as an image")
    case("pipe.jpg", "fifo", "image", "pipe.jpg: not a regular file",
         "a FIFO given as an image (not opened, so nothing blocks)")
    case("missing.png", "missing", "image", "missing.png: cannot open: No such file or directory",
         "a path that does not exist")

    # ================================ models ================================
    hdr, body = st_parts(tiny())
    good = st_join(hdr, body)
    model("empty.safetensors", "empty.safetensors: file is empty", "zero bytes", b"", config=None)
    case("folder.safetensors", "dir", "model", "folder.safetensors: not a regular file",
         "a directory given as the model")
    case("pipe.safetensors", "fifo", "model", "pipe.safetensors: not a regular file",
         "a FIFO given as the model (used to block forever: fixed)")
    case("missing.safetensors", "missing", "model",
         "missing.safetensors: cannot open: No such file or directory", "a path that does not exist")
    model("seven-bytes.safetensors",
          "seven-bytes.safetensors: file is 7 bytes, too short to be a safetensors file",
          "shorter than the header length field", b"\x10\0\0\0\0\0\0", config=None)
    model("header-past-end.safetensors",
          "header-past-end.safetensors: safetensors header length %d is past the end of the file "
          "(%d bytes): truncated or not a safetensors file" % (len(good), len(good) // 2),
          "a header length larger than the file (the file cut in half)",
          struct.pack("<Q", len(good)) + good[8:len(good) // 2], config=None)
    model("png-as-model.safetensors",
          "png-as-model.safetensors: safetensors header length 727905341920923785 is over the "
          "100 MB limit (not a safetensors file?)", "a PNG renamed to .safetensors", good_png,
          config=None)
    model("header-not-json.safetensors",
          "header-not-json.safetensors: safetensors header is not valid JSON (at byte 5: "
          "expected ':')", "a header that is not JSON",
          struct.pack("<Q", 16) + b'{"a" "b": 1}    ', config=None)
    model("header-not-object.safetensors",
          "header-not-object.safetensors: not a safetensors file (header is not a JSON object)",
          "a header that is a JSON list", struct.pack("<Q", 8) + b"[1, 2]  ", config=None)
    model("cut-in-data.safetensors",
          "cut-in-data.safetensors: tensor head.bias has data_offsets [%d, %d] past the end of the "
          "data (%d bytes): the file is truncated or damaged"
          % (hdr["head.bias"]["data_offsets"][0], hdr["head.bias"]["data_offsets"][1], len(body) - 6),
          "the last 6 bytes missing", good[:-6])
    h2 = json.loads(json.dumps(hdr))
    b0, e0 = h2["blocks.0.norm1.bias"]["data_offsets"]
    h2["blocks.0.norm1.bias"]["data_offsets"] = [b0 - 8, e0 - 8]
    model("overlapping.safetensors",
          "overlapping.safetensors: tensors blocks.0.norm1.weight [%d, %d] and blocks.0.norm1.bias "
          "[%d, %d] overlap" % (h2["blocks.0.norm1.weight"]["data_offsets"][0],
                                h2["blocks.0.norm1.weight"]["data_offsets"][1], b0 - 8, e0 - 8),
          "two tensors sharing 8 bytes", st_join(h2, body))
    h2 = json.loads(json.dumps(hdr))
    h2["norm.bias"]["data_offsets"] = [10 ** 9, 10 ** 9 + 32]
    model("out-of-range.safetensors",
          "out-of-range.safetensors: tensor norm.bias has data_offsets [1000000000, 1000000032] "
          "past the end of the data (%d bytes): the file is truncated or damaged" % len(body),
          "offsets a gigabyte past the end of a 5 kB file", st_join(h2, body))
    h2 = json.loads(json.dumps(hdr))
    b0, e0 = h2["cls_token"]["data_offsets"]
    h2["cls_token"]["data_offsets"] = [b0 + 1, e0]
    model("unaligned.safetensors",
          "unaligned.safetensors: tensor cls_token: shape and dtype F32 need 32 bytes but "
          "data_offsets give 31",
          "a tensor starting 1 byte late (off the 4-byte grid, one byte short)", st_join(h2, body))
    h2 = json.loads(json.dumps(hdr))
    h2["head.bias"]["data_offsets"] = [h2["head.bias"]["data_offsets"][1], h2["head.bias"]["data_offsets"][0]]
    model("offsets-reversed.safetensors",
          "offsets-reversed.safetensors: tensor head.bias has data_offsets [%d, %d] that end before "
          "they begin" % tuple(h2["head.bias"]["data_offsets"]), "end before begin",
          st_join(h2, body))
    # duplicate names: JSON allows repeated keys; splice a second "norm.bias" entry in
    raw = json.dumps(hdr, separators=(",", ":"))
    nb = '"norm.bias":' + json.dumps(hdr["norm.bias"], separators=(",", ":"))
    dup = raw[:-1] + "," + nb + "}"
    dup_b = dup.encode() + b" " * ((8 - len(dup) % 8) % 8)
    model("duplicate-names.safetensors",
          "duplicate-names.safetensors: tensor norm.bias appears twice in the header",
          "the same tensor name twice", struct.pack("<Q", len(dup_b)) + dup_b + body)
    model("nan-weight.safetensors",
          "nan-weight.safetensors: tensor blocks.0.attn.qkv.weight contains NaN or infinite values "
          "(at element 17)", "a NaN in a weight",
          st_join(hdr, float_at(hdr, body, "blocks.0.attn.qkv.weight", 17, float("nan"))))
    model("inf-weight.safetensors",
          "inf-weight.safetensors: tensor head.weight contains NaN or infinite values (at element 5)",
          "an infinity in the classifier",
          st_join(hdr, float_at(hdr, body, "head.weight", 5, float("inf"))))
    wrong = tiny()
    wrong = [(n, (16, 8) if n == "blocks.0.mlp.fc2.weight" else s) for n, s in wrong]
    model("wrong-shape.safetensors",
          "wrong-shape.safetensors: tensor blocks.0.mlp.fc2.weight has shape 16×8, expected 8×16",
          "fc2 stored transposed", seeds.safetensors(wrong))
    h2 = json.loads(json.dumps(hdr))
    h2["head.bias"]["dtype"] = "I32"
    model("wrong-dtype-i32.safetensors",
          "wrong-dtype-i32.safetensors: tensor head.bias has dtype I32; only F32, F16 and BF16 are "
          "supported", "an int32 tensor", st_join(h2, body))
    h2["head.bias"]["dtype"] = "F33"
    model("unknown-dtype.safetensors",
          "unknown-dtype.safetensors: tensor head.bias has an unknown dtype 'F33'",
          "a dtype that does not exist", st_join(h2, body))
    h2 = json.loads(json.dumps(hdr))
    h2["head.bias"]["dtype"] = "I8"
    h2["head.bias"]["shape"] = [12]
    model("int8-in-safetensors.safetensors",
          "int8-in-safetensors.safetensors: tensor head.bias has dtype I8; only F32, F16 and BF16 "
          "are supported", "an I8 tensor (only .vitq files carry int8)", st_join(h2, body))
    missing = [(n, s) for n, s in tiny() if n != "head.bias"]
    model("missing-tensor.safetensors", "missing-tensor.safetensors: missing tensor head.bias",
          "head.bias left out", seeds.safetensors(missing))
    model("extra-tensor.safetensors",
          "extra-tensor.safetensors: unexpected tensor blocks.0.ls1.gamma (not part of a DeiT/ViT)",
          "a LayerScale tensor we do not run", seeds.safetensors(tiny() + [("blocks.0.ls1.gamma", (8,))]))
    model("no-heads-d8.safetensors",
          "no-heads-d8.safetensors: embed dim 8 is not a multiple of 64, so the head count cannot be "
          "inferred; give it in config.json as model_args.num_heads",
          "embed dim 8 and no config.json", good, config=None)
    m384 = seeds.vit_tensors(8, 3, 16, 24, 1, 16, 3)
    model("model-384-config-224.safetensors",
          "config.json: input_size says 224×224 but pos_embed fits 384×384 images (a model for "
          "another resolution?)", "a model for 384 px with a config.json for 224 px",
          seeds.safetensors(m384, None, "F16"),
          config=json.dumps({"model_args": {"num_heads": 2},
                             "pretrained_cfg": {"input_size": [3, 224, 224]}}))
    model("config-not-json.safetensors",
          "config.json: not valid JSON (at byte 32: expected ',' or '}')",
          "a config.json with a missing comma", good,
          config='{"model_args": {"num_heads": 2} "num_classes": 3}')
    model("config-num-classes.safetensors",
          "config.json: num_classes is 1000 but head.weight has 3 rows",
          "a config for an ImageNet head on a 3-class model", good,
          config=json.dumps({"num_classes": 1000, "model_args": {"num_heads": 2}}))
    model("config-interpolation.safetensors",
          "config.json: interpolation 'lanczos' is not supported",
          "an interpolation we do not implement", good,
          config=json.dumps({"model_args": {"num_heads": 2}, "interpolation": "lanczos"}))
    model("labels-count.safetensors", "labels.txt: has 2 labels but the model has 3 classes",
          "labels.txt with one line too few", good, extra={"labels.txt": "cat\ndog\n"})
    model("labels-too-many.safetensors", "labels.txt: has 5 labels but the model has 3 classes",
          "labels.txt with two lines too many (they used to be dropped silently: fixed)", good,
          extra={"labels.txt": "cat\ndog\nbird\nfish\nhorse\n\n"})
    model("labels-binary.safetensors", "labels.txt: not a text file",
          "labels.txt with a NUL byte", good, extra={"labels.txt": b"cat\ndog\0\nbird\n"})
    # zero-width Linear weights: a 98 kB file asking for 210 GB of weights
    zw = {"patch_embed.proj.weight": [16384, 1, 1, 1], "pos_embed": [1, 2, 16384],
          "blocks.0.norm1.weight": [0], "blocks.0.mlp.fc1.weight": [1048576, 0],
          "head.weight": [1048576, 0]}
    zh, off = {}, 0
    for n, s in zw.items():
        k = 1
        for d in s:
            k *= d
        zh[n] = {"dtype": "F16", "shape": s, "data_offsets": [off, off + 2 * k]}
        off += 2 * k
    zdata = st_join(zh, b"\0" * off)
    model("absurd-shapes.safetensors",
          "absurd-shapes.safetensors: width 16384 and MLP width 1048576; the limit is 16384",
          "zero-width matrices declaring a model of 210 GB in 98 kB", zdata, config=None)
    big = seeds.vit_tensors(1, 1, 1, 182, 1, 1, 2)
    model("attention-4gb.safetensors",
          "attention-4gb.safetensors: 33125 tokens per image (182 px, patch 1); the limit is 4098",
          "a 66 kB model with 33125 tokens (182×182 patches)",
          seeds.safetensors(big, None, "F16"), config=json.dumps({"model_args": {"num_heads": 1}}))

    # .vitq and .vitl: exports of the tiny model, damaged
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "model.safetensors"), "wb") as f:
            f.write(good)
        with open(os.path.join(tmp, "config.json"), "w") as f:
            f.write(HEADS)
        q, l = os.path.join(tmp, "m.vitq"), os.path.join(tmp, "m.vitl")
        subprocess.run([cli, "export", "--variant", "int8", "--model",
                        os.path.join(tmp, "model.safetensors"), "-o", q], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([cli, "export", "--variant", "optimized", "--model",
                        os.path.join(tmp, "model.safetensors"), "-o", l], check=True,
                       stdout=subprocess.DEVNULL, env=dict(os.environ, VIT_KERNEL="scalar"))
        vitq = open(q, "rb").read()
        vitl = open(l, "rb").read()
    future_version("vitq", vitq, 2)
    model("version-0.vitq", "version-0.vitq: .vitq version 0 is not valid", "version field 0",
          patched(vitq, 4, b"\0\0\0\0"), config=None)
    model("unknown-flags.vitq", "unknown-flags.vitq: .vitq has unknown flags 0x2",
          "a flag bit this version does not know", patched(vitq, 12, b"\x02"), config=None)
    dmg = flip(vitq, 40, 0x01)
    crc_stored = struct.unpack("<I", vitq[8:12])[0]
    hl = struct.unpack("<Q", vitq[16:24])[0]
    crc_got = zlib.crc32(bytes(dmg[16:24 + hl])) & 0xFFFFFFFF
    model("damaged-header.vitq",
          "damaged-header.vitq: .vitq header checksum mismatch (stored %08x, computed %08x): the "
          "file is damaged" % (crc_stored, crc_got), "one bit flipped in the JSON header",
          dmg, config=None)
    model("truncated.vitq", "truncated.vitq: .vitq header length %d is past the end of the file: "
          "truncated" % hl, "cut inside the header", vitq[:200], config=None)
    model("prelude-only.vitq", "prelude-only.vitq: truncated .vitq file (10 bytes)",
          "the magic and a few bytes", vitq[:10], config=None)
    future_version("vitl", vitl, 7)
    model("damaged-header.vitl",
          "damaged-header.vitl: .vitl header checksum mismatch: the file is damaged",
          "one bit flipped in the header",
          flip(vitl, 60, 0x01),  # inside the model shape fields, covered by the header CRC
          config=None)
    model("truncated.vitl",
          "truncated.vitl: the file has 4096 bytes, its header says %d: truncated or damaged"
          % len(vitl), "cut to 4 kB", vitl[:4096], config=None)

    # ---- cases.tsv and the README table
    with open(os.path.join(HERE, "cases.tsv"), "w") as f:
        f.write("# name\tkind\trole\tmessage (after 'vitlens-cli: ')\n")
        for name, kind, role, msg, what in CASES:
            f.write("%s\t%s\t%s\t%s\n" % (name, kind, role, msg))
    readme = os.path.join(HERE, "README.md")
    text = open(readme).read() if os.path.exists(readme) else ""
    marker = "<!-- table: generated by make-bad-inputs.py -->"
    head = text.split(marker)[0] if marker in text else text
    rows = ["| # | input | what it is | `vitlens-cli classify` says (stderr, exit status 1) |",
            "| --- | --- | --- | --- |"]
    for i, (name, kind, role, msg, what) in enumerate(CASES, 1):
        where = {"file": "", "dir": " (a directory)", "fifo": " (a FIFO)", "missing": " (absent)"}[kind]
        rows.append("| %d | `%s`%s, as the %s | %s | `vitlens-cli: %s` |"
                    % (i, name, where, role, what.replace("|", "\\|"), msg.replace("|", "\\|")))
    with open(readme, "w") as f:
        f.write(head + marker + "\n\n" + "\n".join(rows) + "\n")
    print("%d cases" % len(CASES))


if __name__ == "__main__":
    main()

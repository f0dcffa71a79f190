#!/usr/bin/env python3
"""Writes resources/samples/*.png: a few Fashion-MNIST test images (Debian's
dataset-fashion-mnist, MIT licence), scaled 4x, for the README's first command and the app's
first start. Run with /usr/bin/python3 (needs PIL and numpy)."""
import gzip, os, sys
import numpy as np
from PIL import Image

SRC = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "samples")
NAMES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]

def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)

images = idx(f"{SRC}/t10k-images-idx3-ubyte.gz")
labels = idx(f"{SRC}/t10k-labels-idx1-ubyte.gz")
os.makedirs(OUT, exist_ok=True)
for want in (7, 8, 9):  # sneaker, bag, ankle boot: the first test image of each class
    i = int(np.nonzero(labels == want)[0][0])
    img = Image.fromarray(images[i], "L").resize((112, 112), Image.NEAREST)
    path = os.path.join(OUT, f"{NAMES[want]}.png")
    img.save(path, optimize=True)
    print(path, "test index", i)

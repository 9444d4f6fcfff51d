"""Minibatches of real images per dataset, drawn, augmented and normalised as the scoring protocol says
(``harness.protocol``; by default one seeded batch, normalised the way NATS-Bench trained, its mean/std).
A protocol with per-arch draws scores each arch on its own batch (``Batch.for_arch``), drawn with a seed of
(seed, arch index) from the same images, and augmented with the training transform where it says so.

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

import functools
import hashlib
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
from harness.protocol import NATS, Protocol

_IMAGENET16 = ((122.68, 116.66, 104.01), (63.22, 61.26, 65.09))
_ZC_CIFAR = ((0.4914 * 255, 0.4822 * 255, 0.4465 * 255), (0.2023 * 255, 0.1994 * 255, 0.2010 * 255))
# Per-dataset mean / std in 0..255 units, by whose transforms: NATS-Bench's (xautodl.datasets.
# get_dataset_with_transform), zero-cost-nas's (foresight/dataset.py: one pair for both CIFARs), NASLib's
# (naslib/utils: DARTS's CIFAR-10 pair, its own CIFAR-100 pair).
MEAN_STD = {
    "nats": {"cifar10": ((125.3, 123.0, 113.9), (63.0, 62.1, 66.7)),
             "cifar100": ((129.3, 124.1, 112.4), (68.2, 65.4, 70.4)),
             "ImageNet16-120": _IMAGENET16},
    "zero-cost-nas": {"cifar10": _ZC_CIFAR, "cifar100": _ZC_CIFAR, "ImageNet16-120": _IMAGENET16},
    "naslib": {"cifar10": ((0.49139968 * 255, 0.48215827 * 255, 0.44653124 * 255),
                           (0.24703233 * 255, 0.24348505 * 255, 0.26158768 * 255)),
               "cifar100": ((0.5071 * 255, 0.4867 * 255, 0.4408 * 255), (0.2675 * 255, 0.2565 * 255, 0.2761 * 255)),
               "ImageNet16-120": _IMAGENET16},
}
CIFAR10_SAMPLE = "images/cifar10-train-2000.npz"
SAMPLES_20 = "images/samples-20.npz"
# Stand-in label of a CIFAR-10 filler image of class k (see the module docstring).
FILLER_LABEL_STEP = {"cifar100": 10, "ImageNet16-120": 12}


@dataclass(frozen=True)
class Batch:
    """Normalised NCHW float32 inputs, int64 targets, where they came from, the dataset whose normalisation,
    image size and labels they carry (a network of another dataset refuses them), and the protocol that drew
    them with what it needs to draw another arch's batch."""

    inputs: torch.Tensor
    targets: torch.Tensor
    source: str
    dataset: str
    protocol: Protocol = NATS
    seed: int = 0
    data: Path | None = None
    images_dir: Path | None = None

    def to(self, device: str | torch.device) -> Batch:
        return replace(self, inputs=self.inputs.to(device), targets=self.targets.to(device))

    def for_arch(self, index: int) -> Batch:
        """The batch arch ``index`` is scored on: this one, or under a per-arch protocol a fresh draw (on
        this batch's device) with a seed of (seed, index)."""
        if self.protocol.batch_draw == "fixed":
            return self
        drawn = _draw(self.dataset, len(self), arch_batch_seed(self.seed, index), self.data, self.images_dir,
                      self.protocol)
        return replace(drawn, seed=self.seed).to(self.inputs.device)

    def __len__(self) -> int:
        return int(self.targets.shape[0])


def arch_batch_seed(seed: int, index: int) -> int:
    """A process-independent 63-bit seed of arch ``index``'s own draw (per-arch protocols)."""
    digest = hashlib.sha256(f"batch:{int(seed)}:{int(index)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def load_batch(dataset: str, batch_size: int | None = None, seed: int = 0,
               data: str | os.PathLike[str] | None = None,
               images_dir: str | os.PathLike[str] | None = None, protocol: Protocol = NATS) -> Batch:
    """``batch_size`` (default: the protocol's) images for ``dataset``, drawn with ``seed``, as ``protocol``
    draws them; see the module docstring for sources. A per-arch protocol's archs each get their own draw
    from this batch (``Batch.for_arch``)."""
    check_dataset(dataset)
    check_seed(seed)
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    protocol = protocol.with_batch_size(batch_size)
    data = None if data is None else Path(data)
    images_dir = None if images_dir is None else Path(images_dir).expanduser().resolve()
    batch = _draw(dataset, protocol.batch_size, seed, data, images_dir, protocol)
    if len(batch) == 1:
        warnings.warn(f"a {dataset} batch of one image: proxies that compare images (jacob_cov, epe_nas, nwot) "
                      "have nothing to compare; use a batch size of at least 2", DegenerateWarning, stacklevel=2)
    elif (batch.inputs == batch.inputs[:1]).all():
        warnings.warn(f"every image of the {dataset} batch is the same ({batch.source}): proxies that read the "
                      "data (jacob_cov, epe_nas, nwot, ...) cannot tell archs apart on it", DegenerateWarning,
                      stacklevel=2)
    if protocol.batch_draw == "per-arch":
        drawn = batch.source.rsplit(" (seed", 1)[0]
        batch = replace(batch, source=f"per-arch draws: {drawn} (seed {seed})")
    return batch


def _draw(dataset: str, batch_size: int, seed: int, data: Path | None, images_dir: Path | None,
          protocol: Protocol) -> Batch:
    rng = np.random.default_rng(seed)
    if images_dir is not None:
        # absolute (load_batch resolves it): the source names the folder, and the source is part of a
        # stored score's key
        images, labels, source = _from_user_files(dataset, images_dir, batch_size, rng)
    elif dataset == "cifar10":
        images, labels, source = _cifar10_sample(batch_size, rng, data)
    else:
        images, labels, source = _stand_in(dataset, batch_size, rng, data)
    if protocol.augment:
        images = augment(images, rng)
        source += ", random crop + flip"
    if protocol.normalisation != "nats":
        source += f", {protocol.normalisation} mean/std"
    return Batch(_normalise(images, dataset, protocol.normalisation), torch.as_tensor(labels, dtype=torch.int64),
                 f"{source} (seed {seed})", dataset, protocol, seed, data, images_dir)


def augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The CIFAR / ImageNet16 training transform on uint8 NHWC images: a random crop of the image padded with
    zeros (4 px at 32 px, 2 px at 16 px, torchvision's RandomCrop(padding=...)), then a horizontal flip with
    probability 1/2."""
    n, h, w, _ = images.shape
    pad = h // 8
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    ys, xs = rng.integers(0, 2 * pad + 1, n), rng.integers(0, 2 * pad + 1, n)
    out = np.stack([padded[i, y:y + h, x:x + w] for i, (y, x) in enumerate(zip(ys, xs))])
    flip = rng.random(n) < 0.5
    out[flip] = out[flip, :, ::-1]
    return out


def _normalise(images: np.ndarray, dataset: str, normalisation: str = "nats") -> torch.Tensor:
    """uint8 NHWC -> float32 NCHW, (x - mean) / std with the protocol's mean / std."""
    mean, std = (torch.tensor(v, dtype=torch.float32).view(1, 3, 1, 1) for v in MEAN_STD[normalisation][dataset])
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    return ((x - mean) / std).contiguous()


def _choose(n_available: int, k: int, rng: np.random.Generator, what: str) -> np.ndarray:
    if k > n_available:
        raise ValueError(f"batch of {k} images requested but {what} holds only {n_available}")
    return rng.choice(n_available, size=k, replace=False)


def _npz(relative: str, data: Path | None, images_key: str, labels_key: str, side: int,
         classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Images (uint8 NHWC, ``side`` x ``side``) and integer labels in 0..classes-1 of an archive under the
    data root, checked, with an error naming the file when it is unreadable or not what the harness expects.
    Read once per process and file version (per-arch protocols draw from it for every arch)."""
    path = data_file(relative, data)
    stat = path.stat()
    return _read_npz(path, stat.st_mtime_ns, stat.st_size, images_key, labels_key, side, classes)


@functools.lru_cache(maxsize=8)
def _read_npz(path: Path, _mtime_ns: int, _size: int, images_key: str, labels_key: str, side: int,
              classes: int) -> tuple[np.ndarray, np.ndarray]:
    """``_npz`` of one file version; the arrays are read-only, as they are shared."""
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
    labels = labels.astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


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


@functools.lru_cache(maxsize=4)
def _user_arrays(dataset: str, path: Path, _mtime_ns: int, _size: int) -> tuple[np.ndarray, np.ndarray]:
    """Checked images (uint8 NHWC) and labels of a user's training-set file, read once per process and file
    version (per-arch protocols draw from it for every arch); read-only, as they are shared."""
    _, label_key, side = USER_FILES[dataset]
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
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def _from_user_files(dataset: str, root: Path, k: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    path = root / USER_FILES[dataset][0]
    if not path.is_file():
        raise DataNotFoundError(f"image file {path} not found")
    stat = path.stat()
    images, labels = _user_arrays(dataset, path, stat.st_mtime_ns, stat.st_size)
    idx = _choose(len(labels), k, rng, str(path))
    return images[idx], labels[idx], f"{k} images of the user's {dataset} training set {path}"

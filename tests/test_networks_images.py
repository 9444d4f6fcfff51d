"""NATS-Bench networks (structure, seeding, params vs the benchmark) and real-image batches (sources,
normalisation, seeding, users' own dataset pickles read safely)."""

import os
import pickle

import numpy as np
import pytest
import torch

from harness.bench import DATASETS
from harness.errors import DataNotFoundError
from harness.images import MEAN_STD, load_batch, load_dataset_pickle
from harness.networks import NUM_CLASSES, build_network

ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def n_params(net):
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("dataset", DATASETS)
def test_tss_params_equal_nats_bench(tss_oracle, dataset):
    for arch in (0, 11, 284, ALL_CONV):
        net = build_network(tss_oracle.space, arch, dataset, seed=0)
        assert n_params(net) / 1e6 == pytest.approx(tss_oracle.cost(arch, dataset)["params_mb"], abs=1e-6)


def test_sss_params_equal_nats_bench(sss_oracle):
    for arch in (0, 11, "64:64:64:64:64"):
        net = build_network(sss_oracle.space, arch, "cifar100", seed=0)
        assert n_params(net) / 1e6 == pytest.approx(sss_oracle.cost(arch, "cifar100")["params_mb"], abs=1e-6)


@pytest.mark.parametrize("dataset", DATASETS)
def test_network_returns_features_and_logits(tss_oracle, dataset):
    net = build_network(tss_oracle.space, 11, dataset, seed=0)
    side = 16 if dataset == "ImageNet16-120" else 32
    features, logits = net(torch.zeros(2, 3, side, side))
    assert features.shape == (2, 64) and logits.shape == (2, NUM_CLASSES[dataset]) and net.training


def test_seeded_weights_reproducible_and_global_rng_untouched(tss_oracle):
    space = tss_oracle.space
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    a = build_network(space, 11, "cifar10", seed=0).state_dict()
    assert torch.equal(torch.rand(1), expected)
    b = build_network(space, 11, "cifar10", seed=0).state_dict()
    c = build_network(space, 11, "cifar10", seed=1).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["stem.0.weight"], c["stem.0.weight"])


def test_network_built_on_the_device_asked_for(tss_oracle):
    cpu = build_network(tss_oracle.space, 11, "cifar10", seed=0)
    meta = build_network(tss_oracle.space, 11, "cifar10", seed=0, device="meta")
    assert cpu.stem[0].weight.device.type == "cpu" and meta.stem[0].weight.device.type == "meta"
    assert meta.stem[0].weight.shape == cpu.stem[0].weight.shape and meta.training


def test_bad_dataset_is_a_clear_error(tss_oracle):
    with pytest.raises(ValueError, match="unknown dataset 'cifar1000'"):
        build_network(tss_oracle.space, 0, "cifar1000", 0)
    with pytest.raises(ValueError, match="unknown dataset"):
        load_batch("cifar1000")


def test_cifar10_batch_real_normalised_seeded(data_root):
    batch = load_batch("cifar10", 64, seed=0, data=data_root)
    assert batch.inputs.shape == (64, 3, 32, 32) and batch.inputs.dtype == torch.float32
    assert batch.targets.dtype == torch.int64 and set(batch.targets.tolist()) <= set(range(10))
    assert "cifar10-train-2000.npz" in batch.source and "seed 0" in batch.source
    # NATS-Bench's normalisation leaves real CIFAR-10 images near zero mean, unit spread
    assert abs(batch.inputs.mean().item()) < 0.2 and 0.7 < batch.inputs.std().item() < 1.3
    again, other = load_batch("cifar10", 64, 0, data_root), load_batch("cifar10", 64, 1, data_root)
    assert torch.equal(batch.inputs, again.inputs) and not torch.equal(batch.inputs, other.inputs)


def test_cifar100_stand_in_uses_the_real_cifar100_images(data_root):
    samples = np.load(data_root / "images" / "samples-20.npz")
    small = load_batch("cifar100", 8, seed=0, data=data_root)
    assert "8 real CIFAR-100 test images" in small.source and "CIFAR-10 training" not in small.source
    assert set(small.targets.tolist()) <= set(samples["cifar100_labels"].tolist())
    big = load_batch("cifar100", 64, seed=0, data=data_root)
    assert "20 real CIFAR-100" in big.source and "44 real CIFAR-10 training images" in big.source
    mean, std = (np.array(v) for v in MEAN_STD["nats"]["cifar100"])
    first = big.inputs[0].permute(1, 2, 0).numpy() * std + mean  # undo the normalisation
    originals = samples["cifar100_images"].astype(np.float64)
    assert np.abs(originals - first).reshape(20, -1).max(axis=1).min() < 1e-3
    fillers = set(big.targets[20:].tolist())
    assert fillers <= set(range(0, 100, 10)) | {1, 41, 73} and not fillers & set(samples["cifar100_labels"].tolist())
    assert "0->1, 40->41, 70->73" in big.source  # apple, lamp, rose keep their labels; airplane, deer, horse move


def test_imagenet_stand_in_is_16x16_and_labelled_in_range(data_root):
    batch = load_batch("ImageNet16-120", 32, seed=0, data=data_root)
    assert batch.inputs.shape == (32, 3, 16, 16)
    assert batch.targets.min() >= 0 and batch.targets.max() < 120
    assert "ImageNet val images" in batch.source and "box-downsampled to 16x16" in batch.source
    # a label is shared only by images of one class: 129 and 609 (and 630 and 990) fold onto one label mod 120
    in1k = np.load(data_root / "images" / "samples-20.npz")["imagenet_labels_in1k"]
    real = load_batch("ImageNet16-120", 20, seed=0, data=data_root)
    assert len(set(real.targets.tolist())) == len(set(in1k.tolist())) == 19  # 609 twice: one class
    full = load_batch("ImageNet16-120", 64, seed=0, data=data_root)
    assert not set(full.targets[20:].tolist()) & set(real.targets.tolist())


def test_batch_larger_than_the_sample_is_an_error(data_root):
    with pytest.raises(ValueError, match="holds only 2000"):
        load_batch("cifar10", 2001, data=data_root)
    with pytest.raises(ValueError, match="positive int"):
        load_batch("cifar10", 0, data=data_root)


def _write_pickle(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(obj, fh)


def test_user_cifar_pickles(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, size=(30, 3072), dtype=np.uint8)
    _write_pickle(tmp_path / "cifar-10-batches-py" / "data_batch_1", {b"data": data, b"labels": list(range(10)) * 3})
    _write_pickle(tmp_path / "cifar-100-python" / "train", {b"data": data, b"fine_labels": list(range(30))})
    batch = load_batch("cifar10", 30, seed=0, images_dir=tmp_path)
    assert batch.inputs.shape == (30, 3, 32, 32) and "user's cifar10 training set" in batch.source
    # row i of the CIFAR layout is 3 planes of 32x32; the batch holds exactly those pixels, normalised
    mean, std = (torch.tensor(v).view(3, 1, 1) for v in MEAN_STD["nats"]["cifar10"])
    pixels = (batch.inputs * std + mean).round().to(torch.uint8).reshape(30, -1)
    assert sorted(map(bytes, pixels.numpy())) == sorted(map(bytes, data))
    assert sorted(load_batch("cifar100", 30, images_dir=tmp_path).targets.tolist()) == list(range(30))


def test_user_imagenet16_pickle_keeps_120_classes(tmp_path):
    data = np.zeros((6, 768), dtype=np.uint8)
    _write_pickle(tmp_path / "train_data_batch_1", {"data": data, "labels": [1, 120, 121, 500, 3, 1000]})
    batch = load_batch("ImageNet16-120", 3, images_dir=tmp_path)
    assert sorted(batch.targets.tolist()) == [0, 2, 119] and batch.inputs.shape == (3, 3, 16, 16)
    with pytest.raises(ValueError, match="holds only 3"):
        load_batch("ImageNet16-120", 4, images_dir=tmp_path)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_user_pickle_with_foreign_globals_is_refused(tmp_path):
    path = tmp_path / "cifar-10-batches-py" / "data_batch_1"
    _write_pickle(path, {"data": _Evil(), "labels": []})
    with pytest.raises(pickle.UnpicklingError, match="not allowed"):
        load_dataset_pickle(path)
    with pytest.raises(FileNotFoundError):
        load_batch("cifar100", 4, images_dir=tmp_path)


@pytest.mark.parametrize("content, message", [
    (b"garbage, not an archive", "unreadable"),
    ("npy", "not an .npz archive"),
    ("no-labels", "expected uint8 'images' of shape"),
    ("wrong-shape", "expected uint8 'images' of shape"),
    ("label-10", "integer 'labels' of shape \\(N,\\) in 0..9"),
])
def test_broken_image_archive_is_a_clear_error_naming_it(tmp_path, content, message):
    path = tmp_path / "images" / "cifar10-train-2000.npz"
    path.parent.mkdir()
    images = np.zeros((4, 32, 32, 3), dtype=np.uint8)
    if content == "npy":
        with open(path, "wb") as fh:
            np.save(fh, images)
    elif content == "no-labels":
        with open(path, "wb") as fh:
            np.savez(fh, images=images)
    elif content == "label-10":
        with open(path, "wb") as fh:
            np.savez(fh, images=images, labels=np.array([0, 3, 9, 10]))
    elif content == "wrong-shape":
        with open(path, "wb") as fh:
            np.savez(fh, images=images[:, :16], labels=np.zeros(4, dtype=np.int64))
    else:
        path.write_bytes(content)
    with pytest.raises(DataNotFoundError, match=message) as info:
        load_batch("cifar10", 2, data=tmp_path)
    assert str(path) in str(info.value) and "allow_pickle" not in str(info.value)

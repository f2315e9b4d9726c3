#!/usr/bin/python3
"""distsgd and torchvision exchange models (ctest interop.torchvision).

Checks, with Debian's torch and torchvision:
  1. export: a resnet18 trained by `distsgd train` (3 steps on a 64x64 IDX set
     made here, so the ImageNet stem; 1 channel) and written by
     `distsgd export` loads into torchvision.models.resnet18(num_classes=10)
     (conv1 for 1 channel) with strict load_state_dict, and in eval mode gives
     distsgd's logits on the same input (interop_forward on final.ckpt), to 1e-4;
     the same at 32x32 (the CIFAR stem) with the change of conv1 and maxpool
     that export prints;
  2. import: stock torchvision resnet18() and resnet50() (3x224x224, 1000
     classes) with random weights and non-trivial batch-norm statistics, saved
     by torch.save, read by distsgd's reader into its own model, give
     torchvision's logits to 1e-4; written back by distsgd's writer, they load
     strictly into stock torchvision models and equal the originals exactly;
     resnet50 has 25,557,032 parameters in distsgd;
  3. `mpirun -np 2 distsgd train --init-from` starts from the file: with lr 0
     the exported parameters equal the file's exactly, and the batch-norm
     statistics are the file's moved one step (momentum 0.1) towards the batch's;
  4. bad input: a file of the wrong class count, a truncated file,
     --init-from with --resume, export of a run without final.ckpt: exit 2 with
     a message naming what is wrong.
Exits 1 naming the first check that failed.
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import torch
import torchvision


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def run(command, expect=0):
    result = subprocess.run(command, capture_output=True, text=True,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    if result.returncode != expect:
        fail(f"{' '.join(command)} exited {result.returncode} (expected {expect}):\n"
             f"{result.stdout}\n{result.stderr}")
    return result


def train_command(args, ranks, *flags):
    return [args.mpirun, "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np",
            str(ranks), args.distsgd, "train", *flags]


def write_idx(directory, prefix, images, labels):
    with open(os.path.join(directory, f"{prefix}-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, *images.shape))
        f.write(images.astype(np.uint8).tobytes())
    with open(os.path.join(directory, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, len(labels)))
        f.write(labels.astype(np.uint8).tobytes())


def make_idx_set(directory, side=64):
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(1)
    write_idx(directory, "train", rng.integers(0, 256, (64, side, side)), np.arange(64) % 10)
    write_idx(directory, "t10k", rng.integers(0, 256, (20, side, side)), np.arange(20) % 10)


def one_channel_resnet18(classes=10, cifar_stem=False):
    model = torchvision.models.resnet18(num_classes=classes)
    if cifar_stem:  # what export prints for inputs under 64 pixels
        model.conv1 = torch.nn.Conv2d(1, 64, 3, 1, 1, bias=False)
        model.maxpool = torch.nn.Identity()
    else:
        model.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    return model


def perturb_batch_norm(model, seed, mean_scale=0.5, var_low=0.5, var_high=2.0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_((torch.rand(n, generator=generator) - 0.5) * 2 * mean_scale)
                module.running_var.copy_(var_low + torch.rand(n, generator=generator) * (var_high - var_low))
                module.weight.copy_(0.5 + torch.rand(n, generator=generator))
                module.bias.copy_((torch.rand(n, generator=generator) - 0.5) * 0.4)
                module.num_batches_tracked.fill_(7)
    return model


def distsgd_logits(args, x, out, *source):
    path = os.path.join(out, "input.f32")
    x.numpy().astype("<f4").tofile(path)
    logits_path = os.path.join(out, "logits.f32")
    result = run([args.forward, *source, "--input", path, "--batch", str(x.shape[0]),
                  "--logits", logits_path])
    logits = torch.from_numpy(np.fromfile(logits_path, dtype="<f4")).reshape(x.shape[0], -1)
    return logits, int(result.stdout.split()[-1])


def compare_logits(label, ours, theirs):
    difference = (ours - theirs).abs().max().item()
    print(f"{label}: max |distsgd - torchvision| = {difference:.3g} "
          f"(logits up to {theirs.abs().max().item():.3g})")
    if ours.shape != theirs.shape or not difference <= 1e-4:
        fail(f"{label}: logits differ by {difference} (shapes {tuple(ours.shape)}, "
             f"{tuple(theirs.shape)})")


def check_export_after_training(args, data, side=64):
    out = os.path.join(args.out, f"export{side}")
    run(train_command(args, 1, "--model", "resnet18", "--dataset", "mnist-idx", "--data-dir", data,
         "--epochs", "1", "--batch-size", "8", "--max-steps", "3", "--lr", "0.05",
         "--checkpoint-every", "0", "--quiet", "--log-dir", out))
    exported = os.path.join(out, "model.pt")
    result = run([args.distsgd, "export", out, "--out", exported])
    print(result.stdout.strip())
    state = torch.load(exported)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        fail(f"{exported} is not a dict of tensors: {type(state)}")
    model = one_channel_resnet18(cifar_stem=side < 64)
    if list(state.keys()) != list(model.state_dict().keys()):
        fail(f"export's names (in order) are not torchvision's: {list(state.keys())[:8]} ...")
    model.load_state_dict(state, strict=True)
    if state["bn1.num_batches_tracked"].item() != 3:
        fail(f"num_batches_tracked is {state['bn1.num_batches_tracked'].item()}, not the 3 steps")
    model.eval()
    x = torch.randn(3, 1, side, side, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        theirs = model(x)
    ours, _ = distsgd_logits(args, x, out, "--checkpoint", os.path.join(out, "final.ckpt"))
    stem = "CIFAR stem" if side < 64 else "ImageNet stem"
    compare_logits(f"export of a trained resnet18 (1x{side}x{side}, {stem}, 10 classes)", ours,
                   theirs)


def check_import(args, name, parameters):
    out = os.path.join(args.out, name)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(3)
    model = perturb_batch_norm(getattr(torchvision.models, name)(), seed=4).eval()
    original = {k: v.clone() for k, v in model.state_dict().items()}
    saved = os.path.join(out, "torchvision.pt")
    torch.save(model.state_dict(), saved)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        theirs = model(x)
    back = os.path.join(out, "back.pt")
    ours, count = distsgd_logits(args, x, out, "--state-dict", saved, "--model", name, "--shape",
                                 "3x224x224", "--classes", "1000", "--export", back)
    if count != parameters:
        fail(f"distsgd's {name} has {count} parameters, torchvision's {parameters}")
    compare_logits(f"torchvision {name} read by distsgd", ours, theirs)
    state = torch.load(back)
    fresh = getattr(torchvision.models, name)()
    fresh.load_state_dict(state, strict=True)
    for key, value in original.items():
        if not torch.equal(state[key], value):
            fail(f"{name}: {key} written back by distsgd differs from the original")
    print(f"{name}: {len(state)} tensors written back by distsgd load strictly and equal the original")
    return saved


def check_train_init_from(args, data):
    out = os.path.join(args.out, "init-from")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(6)
    # Statistics far from distsgd's own start (mean 0, variance 1), so one
    # step's move (a tenth of the way to the batch's) keeps them recognisable.
    model = perturb_batch_norm(one_channel_resnet18(), seed=7, mean_scale=5, var_low=5, var_high=20)
    source = model.state_dict()
    saved = os.path.join(out, "start.pt")
    torch.save(source, saved)
    run(train_command(args, 2, "--model", "resnet18", "--dataset", "mnist-idx", "--data-dir", data,
         "--epochs", "1", "--batch-size", "4", "--max-steps", "1", "--lr", "0", "--momentum", "0",
         "--checkpoint-every", "0", "--quiet", "--log-dir", out, "--init-from", saved))
    exported = os.path.join(out, "model.pt")
    run([args.distsgd, "export", out, "--out", exported])
    state = torch.load(exported)
    parameters = dict(model.named_parameters())
    for key in parameters:
        if not torch.equal(state[key], source[key]):
            fail(f"--init-from with lr 0: parameter {key} is not the file's")
    worst = 0.0
    for key, value in source.items():
        if key.endswith("running_mean") or key.endswith("running_var"):
            # After one step: 0.9 * the file's + 0.1 * the batch's (>= 0 for a variance).
            moved = (state[key] - 0.9 * value).abs().max().item()
            worst = max(worst, (state[key] - value).abs().max().item() / value.abs().max().item())
            if key.endswith("running_var") and not (state[key] >= 0.9 * value - 1e-4).all():
                fail(f"--init-from: {key} is below 0.9 times the file's: not started from it")
            if not moved < 0.5 * value.abs().max().item():
                fail(f"--init-from: {key} moved {moved} from 0.9 times the file's")
    print(f"train --init-from (2 ranks, lr 0, 1 step): parameters equal the file's; batch-norm "
          f"statistics within {worst:.3f} (relative) of the file's")
    return saved


def check_bad_input(args, data, stock_resnet18):
    out = os.path.join(args.out, "bad")
    os.makedirs(out, exist_ok=True)
    train = train_command(args, 1, "--model", "resnet18", "--dataset", "mnist-idx", "--data-dir",
                          data, "--epochs", "1", "--batch-size", "8", "--max-steps", "1", "--quiet",
                          "--log-dir", out)
    result = run(train + ["--init-from", stock_resnet18], expect=2)
    for word in ("--init-from", stock_resnet18, "conv1.weight", "fc.weight", "1000 classes"):
        if word not in result.stderr:
            fail(f"wrong class count: the message does not name {word!r}: {result.stderr}")
    truncated = os.path.join(out, "truncated.pt")
    with open(stock_resnet18, "rb") as f:
        content = f.read()
    with open(truncated, "wb") as f:
        f.write(content[: len(content) // 2])
    result = run(train + ["--init-from", truncated], expect=2)
    if truncated not in result.stderr:
        fail(f"truncated file: the message does not name it: {result.stderr}")
    result = run(train + ["--init-from", stock_resnet18, "--resume", truncated], expect=2)
    if "--init-from" not in result.stderr or "--resume" not in result.stderr:
        fail(f"--init-from with --resume: {result.stderr}")
    result = run([args.distsgd, "export", out, "--out", os.path.join(out, "x.pt")], expect=2)
    if "final.ckpt" not in result.stderr:
        fail(f"export without final.ckpt: {result.stderr}")
    print("bad input: wrong classes, truncated file, --init-from with --resume, no final.ckpt: "
          "exit 2, named")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--distsgd", required=True)
    parser.add_argument("--forward", required=True)
    parser.add_argument("--mpirun", default="mpirun")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    torch.set_num_threads(1)
    data = os.path.join(args.out, "idx64")
    make_idx_set(data)
    check_export_after_training(args, data)
    small = os.path.join(args.out, "idx32")
    make_idx_set(small, side=32)
    check_export_after_training(args, small, side=32)
    stock = check_import(args, "resnet18", 11689512)
    check_import(args, "resnet50", 25557032)
    check_train_init_from(args, data)
    check_bad_input(args, data, stock)
    print("PASS")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The image loader against PyTorch's DataLoader, on the same files, in one run.

Generates once (kept in --data, reused when present) --images ImageNet-sized
JPEGs (500x375, quality 90, varied content: smooth colour fields, noise,
shapes, in 4 classes), then measures images per second of
  distsgd: build/bench_loader (RandomResizedCrop(224) + flip + normalise,
           --loader-threads T, with the trainer's prefetch of 2 batches)
  PyTorch: DataLoader(ImageFolder) with torchvision's RandomResizedCrop(224),
           RandomHorizontalFlip, ToTensor, Normalize; num_workers = T;
           torch.set_num_threads(1) in the main process and in each worker
for each T, and prints a table with the ratio. Each figure is the median of
--repeat measurements of --batches batches of --batch after one untimed batch
(a DataLoader's worker start-up is not counted). Then the loader's share of a
resnet18 training step at 224x224 (batch 8).

    /usr/bin/python3 bench/loader_bench.py --bench build/bench/bench_loader
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import time

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


def generate(root, count, seed=1):
    rng = np.random.default_rng(seed)
    for i in range(count):
        folder = os.path.join(root, "train", f"class{i % 4}")
        os.makedirs(folder, exist_ok=True)
        # A smooth random colour field (8x6 upsampled), noise, and shapes: JPEG
        # sizes like photographs' (about 60-150 kB at quality 90).
        field = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        image = Image.fromarray(field).resize((500, 375), Image.BICUBIC)
        pixels = np.asarray(image).astype(np.int16)
        pixels += rng.integers(-25, 26, pixels.shape, dtype=np.int16)
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x, y = int(rng.integers(0, 450)), int(rng.integers(0, 325))
            w, h = int(rng.integers(10, 200)), int(rng.integers(10, 200))
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            if rng.random() < 0.5:
                draw.ellipse([x, y, x + w, y + h], fill=colour)
            else:
                draw.rectangle([x, y, x + w, y + h], outline=colour, width=int(rng.integers(1, 8)))
        image.save(os.path.join(folder, f"img{i:04d}.jpg"), quality=90)
    # distsgd's image folder needs a val split: the first image of each class.
    for c in range(4):
        os.makedirs(os.path.join(root, "val", f"class{c}"), exist_ok=True)
        shutil.copy(os.path.join(root, "train", f"class{c}", f"img{c:04d}.jpg"),
                    os.path.join(root, "val", f"class{c}", f"img{c:04d}.jpg"))


def worker_init(_):
    torch.set_num_threads(1)


def dataloader_rate(root, workers, batch, batches, seed):
    normalize = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    dataset = datasets.ImageFolder(os.path.join(root, "train"), transforms.Compose([
        transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
        transforms.ToTensor(), normalize]))
    generator = torch.Generator()
    generator.manual_seed(seed)
    loader = DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=workers,
                        worker_init_fn=worker_init if workers > 0 else None,
                        generator=generator, drop_last=True)
    done, start = -1, None
    while done < batches:
        for _ in loader:
            done += 1
            if done == 0:
                start = time.perf_counter()  # after the first, untimed, batch
            if done == batches:
                break
    return batches * batch / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", default="build/bench/bench_loader")
    parser.add_argument("--data", default="runs/loader-bench-data")
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--step-batch", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not os.path.isdir(os.path.join(args.data, "train")):
        start = time.perf_counter()
        generate(args.data, args.images)
        print(f"generated {args.images} JPEGs (500x375, quality 90) in {args.data} "
              f"in {time.perf_counter() - start:.1f} s")
    threads = [int(t) for t in args.threads.split(",")]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")

    def run_ours(extra, thread_list=args.threads, batches=args.batches):
        command = [args.bench, "--data-dir", args.data, "--threads", thread_list,
                   "--batch", str(args.batch), "--batches", str(batches)] + extra
        out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
        return command, [json.loads(line) for line in out.splitlines()]

    # Ours and theirs alternate, repeat by repeat, so that a change in the
    # machine's load touches both alike.
    ours = {t: {"runs": []} for t in threads}
    theirs = {t: {"runs": []} for t in threads}
    for r in range(args.repeat):
        command, records = run_ours(["--repeat", "1"])
        if r == 0:
            print("$ " + " ".join(command) + "   (once per repeat)")
        for record in records:
            ours[record["threads"]]["runs"].append(record["images_per_s"])
        for t in threads:
            theirs[t]["runs"].append(dataloader_rate(args.data, t, args.batch, args.batches, seed=r))
    for table in (ours, theirs):
        for t in threads:
            table[t]["images_per_s"] = statistics.median(table[t]["runs"])
    step = None
    if args.step_batch > 0:
        command, records = run_ours(["--repeat", "1", "--step-batch", str(args.step_batch)],
                                    thread_list="0", batches=1)
        print("$ " + " ".join(command))
        step = next(r for r in records if r["kind"] == "step")

    print(f"\nimages/s, train transforms at 224, batch {args.batch}, median of {args.repeat} x "
          f"{args.batches} batches")
    print(f"{'threads':>7}  {'distsgd':>9}  {'DataLoader':>10}  {'ratio':>6}")
    for t in threads:
        a, b = ours[t]["images_per_s"], theirs[t]["images_per_s"]
        print(f"{t:>7}  {a:>9.1f}  {b:>10.1f}  {a / b:>5.2f}x")
    print("runs: distsgd " + json.dumps({t: [round(x, 1) for x in ours[t]["runs"]] for t in threads})
          + ", DataLoader " + json.dumps({t: [round(x, 1) for x in theirs[t]["runs"]] for t in threads}))
    if step:
        print(f"\nresnet18 at {step['size']}x{step['size']}, batch {step['batch']}, 1 thread: step "
              f"{step['step_s'] * 1000:.0f} ms (median), loading the batch on one thread "
              f"{step['load_s'] * 1000:.1f} ms: {100 * step['share']:.1f} % of the step "
              f"(with --loader-threads >= 1 it is prefetched during the step)")


if __name__ == "__main__":
    main()

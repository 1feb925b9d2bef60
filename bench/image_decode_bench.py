#!/usr/bin/python3
"""Image-folder decoding: cloudbook against torchvision, on the same Fashion-MNIST folders.

Writes the Fashion-MNIST training images as a PNG class-folder tree and a JPEG one
(configs/fashion_images/write_images.py), then measures on each:
  - cloudbook cold: LoadImageFolder into an empty image cache (decode, resize, cache write);
  - cloudbook warm: the same load answered by the cache (what later epochs and runs cost);
  - torchvision: ImageFolder (Grayscale(1), Resize((28, 28)), ToTensor) through a DataLoader
    with num_workers 0 and 2, one full pass (what every epoch costs there).
Prints images/s, the ratios and a PASS/MISS line per comparison (the goal: ahead of
torchvision), and writes bench/results/image_decode.json.

  /usr/bin/python3 bench/image_decode_bench.py [--limit N] [--work DIR] [--bin build/bin]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "configs", "fashion_images"))
import write_images  # noqa: E402


def torchvision_pass(folder, workers):
    import torch
    from torchvision import datasets, transforms
    torch.set_num_threads(1)
    transform = transforms.Compose([transforms.Grayscale(1), transforms.Resize((28, 28)),
                                    transforms.ToTensor()])
    dataset = datasets.ImageFolder(folder, transform=transform)
    loader = torch.utils.data.DataLoader(dataset, batch_size=256, shuffle=False,
                                         num_workers=workers)
    start = time.perf_counter()
    seen = 0
    for x, _ in loader:
        seen += x.shape[0]
    seconds = time.perf_counter() - start
    return {"images": seen, "seconds": seconds, "images_per_s": seen / seconds}


def cloudbook_pass(binary, folder, cache):
    out = subprocess.run([binary, "--folder", folder, "--cache", cache, "--height", "28",
                          "--width", "28", "--channels", "1"], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=0, help="first N training images (0: all)")
    parser.add_argument("--work", default="/tmp/cloudbook-image-bench")
    parser.add_argument("--bin", default=os.path.join(HERE, "..", "build", "bin"))
    parser.add_argument("--json", default=os.path.join(HERE, "results", "image_decode.json"))
    args = parser.parse_args()
    binary = os.path.join(args.bin, "cloudbook_image_decode_bench")
    if not os.path.exists(binary):
        sys.exit("%s: build it first (cmake --build build --target "
                 "cloudbook_image_decode_bench)" % binary)
    results = {"limit": args.limit, "cores": os.cpu_count(), "formats": {}}
    lines = []
    for fmt in ("png", "jpeg"):
        root = os.path.join(args.work, "%s-%d" % (fmt, args.limit))
        folder = os.path.join(root, "train")
        start = time.perf_counter()
        write_images.write_split(write_images.SOURCE, "train", folder, fmt, args.limit)
        print("%s tree ready in %.1f s: %s" % (fmt, time.perf_counter() - start, folder),
              flush=True)
        ours = cloudbook_pass(binary, folder, os.path.join(root, "cache"))
        tv = {w: torchvision_pass(folder, w) for w in (0, 2)}
        entry = {"cloudbook": ours, "torchvision": {str(w): tv[w] for w in tv}}
        for mode in ("cold", "warm"):
            for w in (0, 2):
                ratio = ours[mode + "_images_per_s"] / tv[w]["images_per_s"]
                entry["ratio_%s_vs_workers%d" % (mode, w)] = ratio
                lines.append("%s %s %-4s %s vs torchvision workers=%d: %.0f vs %.0f images/s, "
                             "ratio %.2f" % ("PASS" if ratio >= 1 else "MISS", fmt, mode,
                                             "cloudbook", w, ours[mode + "_images_per_s"],
                                             tv[w]["images_per_s"], ratio))
        results["formats"][fmt] = entry
        print(json.dumps(entry, indent=1), flush=True)
    for line in lines:
        print(line)
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
    print("wrote", args.json)


if __name__ == "__main__":
    main()

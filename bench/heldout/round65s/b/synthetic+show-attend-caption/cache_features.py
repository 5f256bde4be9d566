"""Pre-compute encoder grids once so the decoder can be trained from disk."""
import os

import torch

from models import Encoder


@torch.no_grad()
def cache(loader, out_dir="features", device="cuda"):
    os.makedirs(out_dir, exist_ok=True)
    encoder = Encoder().to(device)
    encoder.eval()
    for i, (imgs, _, _) in enumerate(loader):
        grid = encoder(imgs.to(device)).half().cpu()
        torch.save(grid, os.path.join(out_dir, f"batch_{i:06d}.pt"))


if __name__ == "__main__":
    import argparse
    from datasets import CaptionDataset
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="TRAIN")
    ap.add_argument("--out", default="features")
    a = ap.parse_args()
    ds = CaptionDataset("data/coco_5_cap_per_img", a.split)
    cache(torch.utils.data.DataLoader(ds, batch_size=64, num_workers=8), out_dir=a.out)

import glob

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from losses import FocalTversky, SoftDiceLoss
from unet import UNet2D


class SliceDataset(Dataset):
    """Pre-sliced .npz files with keys image (4,H,W) and mask (H,W)."""

    def __init__(self, pattern):
        self.files = sorted(glob.glob(pattern))

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        d = np.load(self.files[i])
        img = d["image"].astype(np.float32)
        img = (img - img.mean(axis=(1, 2), keepdims=True)) / (img.std(axis=(1, 2), keepdims=True) + 1e-6)
        mask = d["mask"].astype(np.int64)
        mask[mask == 4] = 3
        return torch.from_numpy(img), torch.from_numpy(mask)


def main():
    dev = torch.device("cuda")
    tr = DataLoader(SliceDataset("slices/train/*.npz"), batch_size=16, shuffle=True, num_workers=6)
    va = DataLoader(SliceDataset("slices/val/*.npz"), batch_size=16, num_workers=6)
    net = UNet2D().to(dev)
    dice = SoftDiceLoss()
    ftl = FocalTversky()
    opt = torch.optim.AdamW(net.parameters(), lr=3e-4)

    for ep in range(60):
        net.train()
        for img, mask in tr:
            img, mask = img.to(dev), mask.to(dev)
            probs = net(img)
            loss = dice(probs, mask) + 0.5 * ftl(probs, mask)
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            vloss = np.mean([dice(net(i.to(dev)), m.to(dev)).item() for i, m in va])
        print(f"ep {ep:03d} val dice loss {vloss:.4f}")
        torch.save(net.state_dict(), "unet2d_brats.pt")


if __name__ == "__main__":
    main()

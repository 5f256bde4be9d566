# 4x super-resolution (SRResNet-lite) on DIV2K patches, MSE + perceptual
import glob
import random

import torch
import torch.nn as nn
import torchvision.transforms.functional as TF
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from losses import PerceptualLoss, TVLoss


class ResBlock(nn.Module):
    def __init__(self, c=64):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.PReLU(), nn.Conv2d(c, c, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


class SRNet(nn.Module):
    def __init__(self, n_blocks=8, c=64):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(3, c, 9, padding=4), nn.PReLU())
        self.body = nn.Sequential(*[ResBlock(c) for _ in range(n_blocks)])
        self.up = nn.Sequential(
            nn.Conv2d(c, c * 4, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(),
            nn.Conv2d(c, c * 4, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(),
        )
        self.tail = nn.Conv2d(c, 3, 9, padding=4)

    def forward(self, x):
        h = self.head(x)
        return torch.clamp(self.tail(self.up(h + self.body(h))), 0, 1)


class DIV2KPatches(Dataset):
    def __init__(self, folder, patch=96, scale=4):
        self.files = sorted(glob.glob(f"{folder}/*.png"))
        self.patch, self.scale = patch, scale

    def __len__(self):
        return len(self.files) * 20

    def __getitem__(self, i):
        img = Image.open(self.files[i % len(self.files)]).convert("RGB")
        x = random.randint(0, img.width - self.patch)
        y = random.randint(0, img.height - self.patch)
        hr = img.crop((x, y, x + self.patch, y + self.patch))
        lr = hr.resize((self.patch // self.scale,) * 2, Image.BICUBIC)
        return TF.to_tensor(lr), TF.to_tensor(hr)


if __name__ == "__main__":
    dev = "cuda"
    loader = DataLoader(DIV2KPatches("DIV2K_train_HR"), batch_size=16, shuffle=True, num_workers=8)
    net = SRNet().to(dev)
    content_loss = PerceptualLoss().to(dev)
    tv = TVLoss()
    pix = nn.MSELoss()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    for epoch in range(100):
        net.train()
        for lr_img, hr_img in loader:
            lr_img, hr_img = lr_img.to(dev), hr_img.to(dev)
            sr = net(lr_img)
            loss = pix(sr, hr_img) + 6e-3 * content_loss(sr, hr_img) + 2e-8 * tv(sr)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch} loss {loss.item():.5f}")
        torch.save(net.state_dict(), f"srnet_e{epoch}.pth")

import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from dataset import SRPatchDataset
from losses import VGGPerceptualLoss
from models import Discriminator, Generator


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hr-dir", default="DIV2K_train_HR")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--adv-weight", type=float, default=1e-3)
    args = ap.parse_args()
    device = torch.device("cuda")

    loader = DataLoader(SRPatchDataset(args.hr_dir, patch=96, scale=4), batch_size=16, shuffle=True, num_workers=8)
    netG, netD = Generator().to(device), Discriminator().to(device)
    perceptual = VGGPerceptualLoss().to(device)
    bce = nn.BCELoss()
    optG = torch.optim.Adam(netG.parameters(), lr=1e-4, betas=(0.9, 0.999))
    optD = torch.optim.Adam(netD.parameters(), lr=1e-4, betas=(0.9, 0.999))

    for epoch in range(args.epochs):
        netG.train()
        netD.train()
        for lr_img, hr_img in loader:
            lr_img, hr_img = lr_img.to(device), hr_img.to(device)
            sr = netG(lr_img)

            real_out = netD(hr_img)
            fake_out = netD(sr.detach())
            d_loss = bce(real_out, torch.ones_like(real_out)) + bce(fake_out, torch.zeros_like(fake_out))
            optD.zero_grad()
            d_loss.backward()
            optD.step()

            g_adv = bce(netD(sr), torch.ones_like(real_out))
            g_loss = perceptual(sr, hr_img) + args.adv_weight * g_adv
            optG.zero_grad()
            g_loss.backward()
            optG.step()
        print(f"epoch {epoch}: D {d_loss.item():.4f} G {g_loss.item():.4f}")
        torch.save(netG.state_dict(), f"netG_epoch_{epoch}.pth")


if __name__ == "__main__":
    main()

# pix2pix-style training on facades (A = label map, B = photo)
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision.utils import save_image

from networks import GeneratorUNet, PatchDiscriminator, VGGPerceptual
from datasets import PairedImageDataset

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=200)
parser.add_argument("--lambda_l1", type=float, default=100.0)
parser.add_argument("--lambda_vgg", type=float, default=10.0)
opt = parser.parse_args()

dev = "cuda"
G = GeneratorUNet().to(dev)
D = PatchDiscriminator().to(dev)
vgg_loss = VGGPerceptual().to(dev)

adv = nn.BCELoss()
l1 = nn.L1Loss()
optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
loader = DataLoader(PairedImageDataset("facades/train"), batch_size=4, shuffle=True)

for epoch in range(opt.epochs):
    G.train()
    D.train()
    for i, (a, b) in enumerate(loader):
        a, b = a.to(dev), b.to(dev)
        fake_b = G(a)

        optG.zero_grad()
        pred_fake = D(a, fake_b)
        loss_gan = adv(pred_fake, torch.ones_like(pred_fake))
        loss_G = loss_gan + opt.lambda_l1 * l1(fake_b, b) + opt.lambda_vgg * vgg_loss(fake_b, b)
        loss_G.backward()
        optG.step()

        optD.zero_grad()
        pred_real = D(a, b)
        pred_fake = D(a, fake_b.detach())
        loss_D = 0.5 * (adv(pred_real, torch.ones_like(pred_real)) + adv(pred_fake, torch.zeros_like(pred_fake)))
        loss_D.backward()
        optD.step()

        if i % 100 == 0:
            print(f"ep {epoch} it {i} G {loss_G.item():.3f} D {loss_D.item():.3f}")
    if epoch % 10 == 0:
        save_image(torch.cat([a, fake_b, b], 0) * 0.5 + 0.5, f"out/ep{epoch}.png", nrow=a.size(0))
        torch.save(G.state_dict(), f"ckpt/G_{epoch}.pth")

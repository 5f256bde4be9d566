import argparse
import os

import torch
from torch.utils.data import DataLoader

from datasets import FaceSRDataset
from losses import IdentityLoss, PerceptualLoss, adversarial_loss
from models.networks import Discriminator, Generator


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/ffhq_128")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--bs", type=int, default=16)
    ap.add_argument("--lambda-adv", type=float, default=1e-3)
    ap.add_argument("--lambda-id", type=float, default=0.1)
    ap.add_argument("--out", default="runs/face_sr")
    return ap.parse_args()


def main():
    args = parse()
    dev = torch.device("cuda")
    os.makedirs(args.out, exist_ok=True)
    loader = DataLoader(FaceSRDataset(args.data, scale=4), batch_size=args.bs, shuffle=True,
                        num_workers=8, drop_last=True)

    G = Generator().to(dev)
    D = Discriminator().to(dev)
    content_loss = PerceptualLoss().to(dev)
    id_loss = IdentityLoss().to(dev)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.9, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.9, 0.999))

    for epoch in range(args.epochs):
        G.train()
        D.train()
        for step, (lr_img, hr_img) in enumerate(loader):
            lr_img, hr_img = lr_img.to(dev), hr_img.to(dev)

            # discriminator
            with torch.no_grad():
                fake = G(lr_img)
            d_loss = adversarial_loss(D(hr_img), True) + adversarial_loss(D(fake), False)
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()

            # generator
            sr = G(lr_img)
            g_loss = (content_loss(sr, hr_img)
                      + args.lambda_adv * adversarial_loss(D(sr), True)
                      + args.lambda_id * id_loss(sr, hr_img))
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            if step % 200 == 0:
                print(f"ep {epoch} it {step} d {d_loss.item():.4f} g {g_loss.item():.4f}")
        torch.save({"G": G.state_dict(), "D": D.state_dict()}, f"{args.out}/ep{epoch:03d}.pth")


if __name__ == "__main__":
    main()

import argparse

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from div2k import DIV2KPatches
from losses import PerceptualLoss, TextureLoss
from srresnet import SRResNet


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/DIV2K_train_HR")
    ap.add_argument("--iters", type=int, default=200000)
    ap.add_argument("--w-percep", type=float, default=0.006)
    ap.add_argument("--w-texture", type=float, default=0.0)
    args = ap.parse_args()

    net = SRResNet(scale=4).cuda()
    percep = PerceptualLoss().cuda()
    texture = TextureLoss().cuda()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    loader = DataLoader(DIV2KPatches(args.data, patch=96, scale=4), batch_size=16,
                        shuffle=True, num_workers=8, drop_last=True)

    step = 0
    net.train()
    while step < args.iters:
        for lr_img, hr_img in loader:
            lr_img, hr_img = lr_img.cuda(), hr_img.cuda()
            sr = net(lr_img)
            loss = F.mse_loss(sr, hr_img) + args.w_percep * percep(sr, hr_img)
            if args.w_texture > 0:
                loss = loss + args.w_texture * texture(sr, hr_img)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 1000 == 0:
                print(f"iter {step} loss {loss.item():.5f}")
            if step >= args.iters:
                break
    torch.save(net.state_dict(), "srresnet_percep.pth")


if __name__ == "__main__":
    main()

import argparse

import torch

from losses import GANLoss, VGGFeatureLoss
from networks import Discriminator, Generator


def set_requires_grad(nets, flag):
    if not isinstance(nets, (list, tuple)):
        nets = [nets]
    for net in nets:
        for p in net.parameters():
            p.requires_grad = flag


def get_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--content-net", default="vgg16_bn", choices=["vgg16_bn", "vgg19"])
    ap.add_argument("--texture-net", default="vgg19")
    ap.add_argument("--iters", type=int, default=200000)
    ap.add_argument("--adv-weight", type=float, default=1e-3)
    return ap.parse_args()


def main(loader):
    args = get_args()
    dev = torch.device("cuda")
    netG = Generator().to(dev)
    netD = Discriminator().to(dev)
    content_loss = VGGFeatureLoss(args.content_net, cut=33).to(dev)
    texture_loss = VGGFeatureLoss(args.texture_net, cut=27, criterion="mse").to(dev)
    adv_loss = GANLoss().to(dev)
    opt_g = torch.optim.Adam(netG.parameters(), lr=1e-4, betas=(0.9, 0.999))
    opt_d = torch.optim.Adam(netD.parameters(), lr=1e-4, betas=(0.9, 0.999))

    netG.train()
    netD.train()
    it = 0
    while it < args.iters:
        for lr_img, hr_img in loader:
            lr_img, hr_img = lr_img.to(dev), hr_img.to(dev)
            # generator step: discriminator weights are not updated here
            set_requires_grad(netD, False)
            sr = netG(lr_img)
            loss_g = content_loss(sr, hr_img) + 0.1 * texture_loss(sr, hr_img)
            loss_g = loss_g + args.adv_weight * adv_loss(netD(sr), True)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            # discriminator step
            set_requires_grad(netD, True)
            loss_d = adv_loss(netD(hr_img), True) + adv_loss(netD(sr.detach()), False)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            it += 1

"""Stage 2: NCT-CRC-HE tissue classification on top of the frozen AE encoder.
python train_cls.py --variant a   (original run from the report)
python train_cls.py --variant b   (re-run with BN kept in eval, see issue #7)
"""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from nets import ConvEncoder, TileClassifier
from utils import freeze, load_encoder, save_ckpt, seed_everything, set_bn_eval

ap = argparse.ArgumentParser()
ap.add_argument("--variant", default="a", choices=["a", "b"])
ap.add_argument("--epochs", type=int, default=30)
args = ap.parse_args()
seed_everything()

tf = transforms.Compose([transforms.Resize(96), transforms.RandomHorizontalFlip(), transforms.ToTensor()])
train_dl = DataLoader(datasets.ImageFolder("NCT-CRC-HE-100K/train", tf), batch_size=64, shuffle=True, num_workers=4)
val_dl = DataLoader(datasets.ImageFolder("NCT-CRC-HE-100K/val", transforms.Compose([transforms.Resize(96), transforms.ToTensor()])), batch_size=256)

dev = "cuda" if torch.cuda.is_available() else "cpu"


def run_variant_a():
    encoder = load_encoder("ckpt/ae_stage1.pth", ConvEncoder())
    freeze(encoder)
    model = TileClassifier(encoder).to(dev)
    opt = torch.optim.Adam(model.mlp.parameters(), lr=1e-3)
    crit = nn.CrossEntropyLoss()
    for ep in range(args.epochs):
        model.train()
        for x, y in train_dl:
            loss = crit(model(x.to(dev)), y.to(dev))
            opt.zero_grad()
            loss.backward()
            opt.step()
        print("A", ep, validate(model))
    save_ckpt(model, "ckpt/cls_a.pth")


def run_variant_b():
    encoder = freeze(load_encoder("ckpt/ae_stage1.pth", ConvEncoder()))
    model = TileClassifier(encoder).to(dev)
    opt = torch.optim.Adam(model.mlp.parameters(), lr=1e-3)
    crit = nn.CrossEntropyLoss()
    for ep in range(args.epochs):
        model.train()
        set_bn_eval(model.encoder)
        for x, y in train_dl:
            loss = crit(model(x.to(dev)), y.to(dev))
            opt.zero_grad()
            loss.backward()
            opt.step()
        print("B", ep, validate(model))
    save_ckpt(model, "ckpt/cls_b.pth")


@torch.no_grad()
def validate(model):
    model.eval()
    hit = n = 0
    for x, y in val_dl:
        hit += (model(x.to(dev)).argmax(1).cpu() == y).sum().item()
        n += len(y)
    return hit / n


if __name__ == "__main__":
    run_variant_a() if args.variant == "a" else run_variant_b()

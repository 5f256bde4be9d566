"""Extract embeddings for the Oxford-IIIT Pets images and cache them to .npy.

Usage: python extract_features.py --data ./data/pets --out ./features --backbone resnet50
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms


def get_backbone(name):
    if name == "resnet50":
        net = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
        net.fc = nn.Identity()
    elif name == "vit_b_16":
        net = models.vit_b_16(weights=models.ViT_B_16_Weights.IMAGENET1K_V1)
        net.heads = nn.Identity()
    else:
        raise ValueError(f"unknown backbone {name}")
    return net


def dump(net, loader, device):
    feats, labels = [], []
    with torch.no_grad():
        for x, y in loader:
            f = net(x.to(device))
            feats.append(f.cpu().numpy())
            labels.append(y.numpy())
    return np.concatenate(feats), np.concatenate(labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="./data/pets")
    ap.add_argument("--out", default="./features")
    ap.add_argument("--batch_size", type=int, default=64)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    tf = transforms.Compose([
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    splits = {
        "trainval": datasets.OxfordIIITPet(args.data, split="trainval", transform=tf, download=True),
        "test": datasets.OxfordIIITPet(args.data, split="test", transform=tf, download=True),
    }

    # CNN features for the kNN baseline
    cnn = get_backbone("resnet50").to(device)
    for split, ds in splits.items():
        loader = DataLoader(ds, batch_size=args.batch_size, shuffle=True, num_workers=4)
        X, y = dump(cnn, loader, device)
        np.save(os.path.join(args.out, f"resnet50_{split}_X.npy"), X)
        np.save(os.path.join(args.out, f"resnet50_{split}_y.npy"), y)
        print(split, X.shape)

    # transformer features for comparison
    vit = get_backbone("vit_b_16").to(device)
    for split, ds in splits.items():
        loader = DataLoader(ds, batch_size=args.batch_size, shuffle=False, num_workers=4)
        X, y = dump(vit, loader, device)
        np.save(os.path.join(args.out, f"vit_{split}_X.npy"), X)
        np.save(os.path.join(args.out, f"vit_{split}_y.npy"), y)


if __name__ == "__main__":
    main()

"""Alternative protocol: cache frozen penultimate features once, then fit logistic regression."""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torchvision
from sklearn.linear_model import LogisticRegression
from torch.utils.data import DataLoader
from torchvision import transforms


@torch.no_grad()
def extract(backbone, dataset, device):
    backbone.eval()
    feats, labels = [], []
    for x, y in DataLoader(dataset, batch_size=256, num_workers=8):
        feats.append(backbone(x.to(device)).cpu().numpy())
        labels.append(y.numpy())
    return np.concatenate(feats), np.concatenate(labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data")
    ap.add_argument("--C", type=float, default=0.3)
    args = ap.parse_args()

    tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    backbone = torchvision.models.resnet50(weights="IMAGENET1K_V2")
    backbone.fc = nn.Identity()
    backbone.requires_grad_(False)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    backbone.to(device)

    train = torchvision.datasets.Flowers102(args.root, split="train", transform=tf, download=True)
    test = torchvision.datasets.Flowers102(args.root, split="test", transform=tf, download=True)
    xtr, ytr = extract(backbone, train, device)
    xte, yte = extract(backbone, test, device)
    clf = LogisticRegression(C=args.C, max_iter=2000).fit(xtr, ytr)
    print("linear probe (sklearn) acc:", clf.score(xte, yte))


if __name__ == "__main__":
    main()

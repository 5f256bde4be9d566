"""Pneumonia detection from chest X-rays, DenseNet-121 baseline."""
import os
import sys

import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

from config import dump, parse_overrides


def build_model(cfg):
    net = models.densenet121(pretrained=True)
    if cfg["freeze_backbone"]:
        for p in net.features.parameters():
            p.requires_grad = False
    net.classifier = nn.Linear(net.classifier.in_features, cfg["num_classes"])
    return net


def loaders(cfg):
    tf = transforms.Compose([
        transforms.Grayscale(3),
        transforms.Resize((cfg["img_size"], cfg["img_size"])),
        transforms.RandomRotation(10),
        transforms.ToTensor(),
        transforms.Normalize([0.5] * 3, [0.25] * 3),
    ])
    tr = datasets.ImageFolder(os.path.join(cfg["data_root"], "train"), tf)
    te = datasets.ImageFolder(os.path.join(cfg["data_root"], "test"), tf)
    return (DataLoader(tr, cfg["batch_size"], shuffle=True, num_workers=cfg["num_workers"]),
            DataLoader(te, cfg["batch_size"], num_workers=cfg["num_workers"]))


def main():
    cfg = parse_overrides(sys.argv[1:])
    dump(cfg)
    os.makedirs(cfg["out"], exist_ok=True)
    dev = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    train_dl, test_dl = loaders(cfg)
    model = build_model(cfg).to(dev)
    opt = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()),
                           lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    crit = nn.CrossEntropyLoss()

    for epoch in range(cfg["epochs"]):
        model.train()
        for x, y in train_dl:
            x, y = x.to(dev), y.to(dev)
            opt.zero_grad()
            loss = crit(model(x), y)
            loss.backward()
            opt.step()
        model.eval()
        scores, gts = [], []
        with torch.no_grad():
            for x, y in test_dl:
                scores += torch.softmax(model(x.to(dev)), 1)[:, 1].cpu().tolist()
                gts += y.tolist()
        print(f"epoch {epoch}: loss {loss.item():.4f} auc {roc_auc_score(gts, scores):.4f}")
        torch.save(model.state_dict(), os.path.join(cfg["out"], "last.pth"))


if __name__ == "__main__":
    main()

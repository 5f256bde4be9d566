"""GLDv2-clean subset: ArcFace on GeM features. Three backbone recipes, picked with --recipe."""
import argparse

import torch
from torch.utils.data import DataLoader

from dataset import LandmarkDataset
from losses import ArcFace
from net import GeM, RetrievalNet, frozen_bn_resnet50, set_bn_eval


def loop(model, head, loader, optimizer, device, epochs, after_train=None):
    for epoch in range(epochs):
        model.train()
        if after_train is not None:
            model.apply(after_train)
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = head(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch} last loss {loss.item():.4f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", choices=["gem", "frozenbn", "bneval"], default="gem")
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()
    device = "cuda"
    loader = DataLoader(LandmarkDataset("data/gldv2_clean.csv"), batch_size=64, shuffle=True, num_workers=8)
    n_cls = loader.dataset.num_classes

    if args.recipe == "gem":
        model = RetrievalNet(depth=101, dim=512, freeze_body=True).to(device)
        head = ArcFace(512, n_cls).to(device)
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad] + list(head.parameters()), 1e-3)
        loop(model, head, loader, opt, device, args.epochs)
    elif args.recipe == "frozenbn":
        body = frozen_bn_resnet50()
        body.fc = torch.nn.Sequential(GeM(), torch.nn.Flatten(), torch.nn.Linear(2048, 512))
        body.avgpool = torch.nn.Identity()
        model = body.to(device)
        head = ArcFace(512, n_cls).to(device)
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad] + list(head.parameters()), 0.01)
        loop(model, head, loader, opt, device, args.epochs)
    else:
        model = RetrievalNet(depth=50, dim=512, freeze_body=False).to(device)
        model.body.requires_grad_(False)
        head = ArcFace(512, n_cls).to(device)
        opt = torch.optim.Adam(list(model.whiten.parameters()) + list(model.pool.parameters()) + list(head.parameters()), 1e-3)
        loop(model, head, loader, opt, device, args.epochs, after_train=set_bn_eval)

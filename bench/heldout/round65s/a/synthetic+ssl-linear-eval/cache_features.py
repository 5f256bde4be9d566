"""Extract frozen trunk features once, then fit a logistic-regression head on the cache."""
import sys

import torch
import torch.nn as nn

from backbones import load_moco_resnet50
from data import imagenet_loaders


@torch.no_grad()
def extract(trunk, loader, device="cuda"):
    trunk.eval()
    feats, labels = [], []
    for x, y in loader:
        feats.append(trunk(x.to(device)).cpu())
        labels.append(y)
    return torch.cat(feats), torch.cat(labels)


def fit_head(feats, labels, num_classes=1000, epochs=50):
    head = nn.Linear(feats.shape[1], num_classes)
    opt = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=20)
    for _ in range(epochs):
        def closure():
            opt.zero_grad()
            loss = nn.functional.cross_entropy(head(feats), labels)
            loss.backward()
            return loss
        opt.step(closure)
    return head


if __name__ == "__main__":
    trunk = load_moco_resnet50(sys.argv[1]).cuda()
    train_loader, _ = imagenet_loaders("/datasets/imagenet", batch_size=512, augment=False)
    X, Y = extract(trunk, train_loader)
    head = fit_head(X, Y)
    torch.save(head.state_dict(), "logreg_head.pt")

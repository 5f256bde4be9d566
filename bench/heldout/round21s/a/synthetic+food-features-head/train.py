# Food-101 quick experiments (ML course project)
# usage: python train.py v1   |   python train.py v2
import sys

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from models import FeatureHeadNet, FeatureHeadNetV2

tf = transforms.Compose([
    transforms.Resize((224, 224)),
    transforms.RandomHorizontalFlip(),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


def train(model, epochs=12, lr=1e-3):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    ds = datasets.Food101("data", split="train", transform=tf, download=True)
    dl = DataLoader(ds, batch_size=64, shuffle=True, num_workers=4)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for ep in range(epochs):
        model.train()
        tot = 0
        for x, y in dl:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            tot += loss.item()
        print(f"ep {ep}: {tot / len(dl):.4f}")
    return model


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "v1"
    if which == "v1":
        net = train(FeatureHeadNet())
        torch.save(net.state_dict(), "food_v1.pt")
    else:
        net = train(FeatureHeadNetV2(), lr=3e-3)
        torch.save(net.state_dict(), "food_v2.pt")

"""Full fine-tune of a ResNet-34 with BatchNorm held at ImageNet statistics (small batches)."""
import torch
import torch.nn as nn
from torchvision import models

from data import aptos_loaders
from utils import freeze_bn


def main(epochs=15, device="cuda"):
    loaders = aptos_loaders("../input/aptos2019-blindness-detection", size=384, batch_size=8)
    model = models.resnet34(weights="IMAGENET1K_V1")
    model.fc = nn.Linear(model.fc.in_features, 1)
    model = model.to(device)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    mse = nn.MSELoss()
    for epoch in range(epochs):
        model.train()
        freeze_bn(model)
        for x, y in loaders["train"]:
            x, y = x.to(device), y.float().to(device)
            loss = mse(model(x).squeeze(1), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    torch.save(model.state_dict(), "resnet34_regression.pt")


if __name__ == "__main__":
    main()

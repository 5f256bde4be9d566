"""Short LR sweep on a 10-class Food-101 subset; backbone frozen for two warm-up epochs only."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

from network import FoodClassifier

WARMUP_EPOCHS = 2
SWEEP_EPOCHS = 6


def subset_loader(root):
    tf = transforms.Compose([transforms.RandomResizedCrop(160), transforms.ToTensor()])
    ds = datasets.Food101(root, split="train", transform=tf, download=True)
    idx = [i for i, y in enumerate(ds._labels) if y < 10]
    return DataLoader(Subset(ds, idx), batch_size=64, shuffle=True, num_workers=4)


def run(lr, loader, device):
    model = FoodClassifier("efficientnet_b0", num_classes=10).to(device)
    model.set_backbone_trainable(False)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    ce = nn.CrossEntropyLoss()
    for epoch in range(SWEEP_EPOCHS):
        if epoch == WARMUP_EPOCHS:
            model.set_backbone_trainable(True)
        model.train()
        for x, y in loader:
            loss = ce(model(x.to(device)), y.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return loss.item()


if __name__ == "__main__":
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dl = subset_loader("food-101")
    for lr in (1e-4, 3e-4, 1e-3, 3e-3):
        print(lr, run(lr, dl, dev))

import os

import torch
import torch.nn as nn
import yaml
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from losses import CenterLoss
from models.resnet_fg import build_model

CFG = {
    "data_root": "CUB_200_2011/images_split",
    "num_classes": 200,
    "embed_dim": 512,
    "pretrained": True,
    "epochs": 60,
    "lr": 0.01,
    "center_weight": 0.005,
}


def loaders(root):
    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tr = transforms.Compose([transforms.RandomResizedCrop(448), transforms.RandomHorizontalFlip(), transforms.ToTensor(), norm])
    te = transforms.Compose([transforms.Resize(512), transforms.CenterCrop(448), transforms.ToTensor(), norm])
    train = datasets.ImageFolder(os.path.join(root, "train"), tr)
    test = datasets.ImageFolder(os.path.join(root, "test"), te)
    return DataLoader(train, 16, shuffle=True, num_workers=8), DataLoader(test, 32, num_workers=8)


def main(cfg):
    device = torch.device("cuda")
    train_loader, test_loader = loaders(cfg["data_root"])
    model = build_model(cfg).to(device)
    ce = nn.CrossEntropyLoss()
    center = CenterLoss(cfg["num_classes"], cfg["embed_dim"]).to(device)
    optimizer = torch.optim.SGD(
        [{"params": model.parameters()}, {"params": center.parameters(), "lr": 0.5}],
        lr=cfg["lr"], momentum=0.9, weight_decay=1e-4,
    )
    for epoch in range(cfg["epochs"]):
        model.train()
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            scores, emb = model(images)
            loss = ce(scores, labels) + cfg["center_weight"] * center(emb, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for images, labels in test_loader:
                scores, _ = model(images.to(device))
                correct += (scores.argmax(1).cpu() == labels).sum().item()
                total += labels.numel()
        print(f"epoch {epoch}: loss {loss.item():.3f} top1 {100.0 * correct / total:.2f}")


if __name__ == "__main__":
    if os.path.exists("config.yaml"):
        with open("config.yaml") as f:
            CFG.update(yaml.safe_load(f))
    main(CFG)

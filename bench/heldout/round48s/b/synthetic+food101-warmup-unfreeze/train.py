import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from config import load_config
from network import FoodClassifier


def loaders(cfg):
    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tr = transforms.Compose([transforms.RandomResizedCrop(cfg["image_size"]), transforms.RandomHorizontalFlip(),
                             transforms.TrivialAugmentWide(), transforms.ToTensor(), norm])
    te = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(cfg["image_size"]), transforms.ToTensor(), norm])
    train = datasets.Food101(cfg["data_root"], split="train", transform=tr, download=True)
    test = datasets.Food101(cfg["data_root"], split="test", transform=te, download=True)
    return (DataLoader(train, cfg["batch_size"], shuffle=True, num_workers=cfg["num_workers"]),
            DataLoader(test, cfg["batch_size"] * 2, num_workers=cfg["num_workers"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--freeze-epochs", dest="freeze_epochs", type=int)
    cfg = load_config(vars(ap.parse_args()))
    device = torch.device("cuda")
    train_loader, test_loader = loaders(cfg)

    model = FoodClassifier(cfg["arch"], cfg["num_classes"]).to(device)
    model.set_backbone_trainable(False)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.AdamW([
        {"params": model.head.parameters(), "lr": cfg["head_lr"]},
        {"params": model.backbone.parameters(), "lr": cfg["backbone_lr"]},
    ], weight_decay=cfg["weight_decay"])

    for epoch in range(cfg["epochs"]):
        if epoch == cfg["freeze_epochs"]:
            print("unfreezing backbone")
            model.set_backbone_trainable(True)
        model.train()
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            loss = criterion(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in test_loader:
                correct += (model(images.to(device)).argmax(1).cpu() == labels).sum().item()
        print(f"epoch {epoch}: loss {loss.item():.3f} top1 {correct / len(test_loader.dataset):.4f}")


if __name__ == "__main__":
    main()

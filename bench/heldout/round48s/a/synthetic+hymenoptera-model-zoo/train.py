import argparse
import copy

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from models import create_model, default_arch, describe, input_size_for


def train_model(model, loaders, criterion, optimizer, num_epochs, device):
    best_acc, best_wts = 0.0, copy.deepcopy(model.state_dict())
    for epoch in range(num_epochs):
        for phase in ("train", "val"):
            if phase == "train":
                model.train()
            else:
                model.eval()
            correct = 0
            for inputs, labels in loaders[phase]:
                inputs, labels = inputs.to(device), labels.to(device)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                correct += (outputs.argmax(1) == labels).sum().item()
            acc = correct / len(loaders[phase].dataset)
            print(f"epoch {epoch} {phase} acc {acc:.4f}")
            if phase == "val" and acc > best_acc:
                best_acc, best_wts = acc, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_wts)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default=default_arch())
    ap.add_argument("--data", default="data/hymenoptera_data")
    ap.add_argument("--epochs", type=int, default=15)
    args = ap.parse_args()
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    size = input_size_for(args.arch)
    tf = transforms.Compose([transforms.RandomResizedCrop(size), transforms.ToTensor()])
    loaders = {x: DataLoader(datasets.ImageFolder(f"{args.data}/{x}", tf), batch_size=8,
                             shuffle=(x == "train")) for x in ("train", "val")}
    model = create_model(args.arch, num_classes=2, feature_extract=True).to(device)
    print(describe(model))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.001, momentum=0.9)
    train_model(model, loaders, nn.CrossEntropyLoss(), optimizer, args.epochs, device)


if __name__ == "__main__":
    main()

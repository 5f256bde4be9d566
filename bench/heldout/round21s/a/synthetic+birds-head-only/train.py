# CUB-200 birds: quick baseline, only the last layer is optimised
import argparse

import torch
import torch.nn as nn
from torchvision import datasets, models, transforms


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="CUB_200_2011/images_split")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--bs", type=int, default=64)
    return ap.parse_args()


def main():
    args = parse()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tf = transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    train_set = datasets.ImageFolder(args.root + "/train", tf)
    loader = torch.utils.data.DataLoader(train_set, batch_size=args.bs, shuffle=True, num_workers=4)

    model = models.resnet18(pretrained=True)
    model.fc = nn.Linear(512, 200)
    model = model.to(device)
    # only the new fc goes to the optimizer
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=args.lr, momentum=0.9)
    criterion = nn.CrossEntropyLoss()

    for epoch in range(args.epochs):
        model.train()
        correct = 0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            out = model(x)
            loss = criterion(out, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            correct += (out.argmax(1) == y).sum().item()
        print(f"epoch {epoch} train acc {correct / len(train_set):.3f}")
    torch.save(model.state_dict(), "cub_resnet18_fc.pth")


if __name__ == "__main__":
    main()

"""CS-DL Homework 2: fully connected and convolutional nets on MNIST."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class TwoLayerMLP(nn.Module):
    def __init__(self, in_dim=784, hidden=256, n_classes=10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_classes),
            nn.Softmax(dim=1),
        )

    def forward(self, x):
        return self.net(x)


class LogRegNet(nn.Module):
    """Part (b): multinomial logistic regression."""

    def __init__(self, in_dim=784, n_classes=10):
        super().__init__()
        self.linear = nn.Linear(in_dim, n_classes)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.linear(x), dim=1)


class SmallConvNet(nn.Module):
    """Part (c): two conv layers, returns class scores."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 7 * 7, n_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def get_loaders(batch_size):
    tfm = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = datasets.MNIST("./data", train=True, download=True, transform=tfm)
    test = datasets.MNIST("./data", train=False, download=True, transform=tfm)
    return DataLoader(train, batch_size, shuffle=True), DataLoader(test, 1000)


def accuracy(model, loader, device):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            pred = model(x.to(device)).argmax(1)
            correct += (pred == y.to(device)).sum().item()
    return correct / len(loader.dataset)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--bs", type=int, default=64)
    args = p.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train_loader, test_loader = get_loaders(args.bs)

    # ---- Part (a): MLP ----
    mlp = TwoLayerMLP().to(device)
    criterion = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(mlp.parameters(), lr=args.lr)
    for epoch in range(args.epochs):
        mlp.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            opt.zero_grad()
            loss = criterion(mlp(x), y)
            loss.backward()
            opt.step()
        print(f"[MLP] epoch {epoch} acc={accuracy(mlp, test_loader, device):.4f}")

    # ---- Part (b): logistic regression with NLL ----
    logreg = LogRegNet().to(device)
    nll = nn.NLLLoss()
    opt = torch.optim.SGD(logreg.parameters(), lr=0.1)
    for epoch in range(args.epochs):
        logreg.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            opt.zero_grad()
            loss = nll(logreg(x), y)
            loss.backward()
            opt.step()
        print(f"[LogReg] epoch {epoch} acc={accuracy(logreg, test_loader, device):.4f}")

    # ---- Part (c): CNN ----
    cnn = SmallConvNet().to(device)
    opt = torch.optim.Adam(cnn.parameters(), lr=args.lr)
    for epoch in range(args.epochs):
        cnn.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            opt.zero_grad()
            out = cnn(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
        print(f"[CNN] epoch {epoch} acc={accuracy(cnn, test_loader, device):.4f}")


if __name__ == "__main__":
    main()

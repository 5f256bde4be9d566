# Step 2 of the assignment: use the encoder pre-trained as an autoencoder (step 1, pretrain_ae.py)
# and train a classifier on only 1000 labelled MNIST digits with the encoder frozen.
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

from autoencoder import Classifier, ConvEncoder, GNEncoder

parser = argparse.ArgumentParser()
parser.add_argument("--norm", default="bn", choices=["bn", "gn"])
parser.add_argument("--epochs", type=int, default=50)
args = parser.parse_args()

device = "cuda" if torch.cuda.is_available() else "cpu"
mnist = datasets.MNIST("data", train=True, download=True, transform=transforms.ToTensor())
labelled = Subset(mnist, range(1000))
loader = DataLoader(labelled, batch_size=50, shuffle=True)
test = DataLoader(datasets.MNIST("data", train=False, transform=transforms.ToTensor()), batch_size=500)


def run(encoder, ckpt):
    encoder.load_state_dict(torch.load(ckpt, map_location="cpu"))
    for p in encoder.parameters():
        p.requires_grad = False
    clf = Classifier(encoder).to(device)
    opt = torch.optim.Adam(clf.head.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        clf.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = nn.functional.cross_entropy(clf(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        clf.eval()
        with torch.no_grad():
            acc = sum((clf(x.to(device)).argmax(1).cpu() == y).sum().item() for x, y in test) / 10000
        print(f"epoch {epoch} test acc {acc:.4f}")


if args.norm == "gn":
    run(GNEncoder(), "encoder_gn.pth")
else:
    run(ConvEncoder(), "encoder_bn.pth")

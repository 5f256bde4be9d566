import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
import torch.optim as optim

from models import GCN, DenseGAT, MLPBaseline
from utils import accuracy, load_data

parser = argparse.ArgumentParser()
parser.add_argument("--model", default="gcn", choices=["gcn", "gat", "mlp"])
parser.add_argument("--seed", type=int, default=42)
parser.add_argument("--epochs", type=int, default=200)
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--weight_decay", type=float, default=5e-4)
parser.add_argument("--hidden", type=int, default=16)
parser.add_argument("--dropout", type=float, default=0.5)
args = parser.parse_args()

np.random.seed(args.seed)
torch.manual_seed(args.seed)

adj, features, labels, idx_train, idx_val, idx_test = load_data()
nclass = int(labels.max()) + 1

if args.model == "gcn":
    model = GCN(features.shape[1], args.hidden, nclass, args.dropout)
elif args.model == "gat":
    model = DenseGAT(features.shape[1], 8, nclass, args.dropout)
else:
    model = MLPBaseline(features.shape[1], args.hidden, nclass, args.dropout)
optimizer = optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)


def train(epoch):
    t = time.time()
    model.train()
    optimizer.zero_grad()
    output = model(features, adj)
    if args.model == "mlp":
        loss_train = F.cross_entropy(output[idx_train], labels[idx_train])
    else:
        loss_train = F.nll_loss(output[idx_train], labels[idx_train])
    acc_train = accuracy(output[idx_train], labels[idx_train])
    loss_train.backward()
    optimizer.step()

    model.eval()
    with torch.no_grad():
        output = model(features, adj)
    acc_val = accuracy(output[idx_val], labels[idx_val])
    print(f"Epoch {epoch + 1:04d} loss_train {loss_train.item():.4f} acc_train {acc_train:.4f} "
          f"acc_val {acc_val:.4f} time {time.time() - t:.4f}s")


for epoch in range(args.epochs):
    train(epoch)

model.eval()
with torch.no_grad():
    output = model(features, adj)
print("Test accuracy:", accuracy(output[idx_test], labels[idx_test]))

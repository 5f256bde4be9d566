import argparse
import json

import torch
import torch.nn as nn

from data import build_vocab, make_loader
from model import TextCNN


def load_split(path):
    with open(path) as f:
        rows = [json.loads(line) for line in f]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="data/imdb_train.jsonl")
    ap.add_argument("--valid", default="data/imdb_valid.jsonl")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()

    tr_x, tr_y = load_split(args.train)
    va_x, va_y = load_split(args.valid)
    vocab = build_vocab(tr_x)
    train_loader = make_loader(tr_x, tr_y, vocab)
    valid_loader = make_loader(va_x, va_y, vocab, shuffle=False)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = TextCNN(len(vocab)).to(device)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    for epoch in range(args.epochs):
        model.train()
        total = 0.0
        for tokens, labels in train_loader:
            tokens, labels = tokens.to(device), labels.to(device)
            preds = model(tokens)
            loss = loss_fn(preds, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        model.eval()
        hits = n = 0
        with torch.no_grad():
            for tokens, labels in valid_loader:
                p = model(tokens.to(device))
                hits += ((p > 0.5).float().cpu() == labels).sum().item()
                n += labels.numel()
        print(f"epoch {epoch}: train loss {total / len(train_loader):.4f} valid acc {hits / n:.4f}")


if __name__ == "__main__":
    main()

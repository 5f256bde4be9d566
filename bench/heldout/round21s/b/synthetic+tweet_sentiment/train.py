import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from data import TweetDataset, collate_batch, build_vocab
from model import BiLSTMClassifier, CNNTextClassifier

ap = argparse.ArgumentParser()
ap.add_argument("--arch", choices=["lstm", "cnn"], default="lstm")
ap.add_argument("--epochs", type=int, default=8)
args = ap.parse_args()

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
vocab = build_vocab("data/train.csv", min_freq=2)
train_dl = DataLoader(TweetDataset("data/train.csv", vocab), batch_size=64, shuffle=True, collate_fn=collate_batch)
val_dl = DataLoader(TweetDataset("data/val.csv", vocab), batch_size=256, collate_fn=collate_batch)

losses = {
    "nll": nn.NLLLoss(),
    "ce": nn.CrossEntropyLoss(label_smoothing=0.1),
}


def train_lstm():
    model = BiLSTMClassifier(len(vocab)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for ep in range(args.epochs):
        model.train()
        for tokens, lengths, y in train_dl:
            tokens, y = tokens.to(device), y.to(device)
            probs, _ = model(tokens, lengths)
            loss = losses["nll"](probs, y)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
        print(ep, "val acc", accuracy(model, lambda out: out[0]))
    return model


def train_cnn():
    model = CNNTextClassifier(len(vocab)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for ep in range(args.epochs):
        model.train()
        for tokens, lengths, y in train_dl:
            logits = model(tokens.to(device))
            loss = losses["ce"](logits, y.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(ep, "val acc", accuracy(model, lambda out: out))
    return model


@torch.no_grad()
def accuracy(model, pick):
    model.eval()
    hit = n = 0
    for tokens, lengths, y in val_dl:
        out = pick(model(tokens.to(device), lengths))
        hit += (out.argmax(-1).cpu() == y).sum().item()
        n += len(y)
    return hit / n


if __name__ == "__main__":
    m = train_lstm() if args.arch == "lstm" else train_cnn()
    torch.save(m.state_dict(), f"{args.arch}_sentiment.pt")

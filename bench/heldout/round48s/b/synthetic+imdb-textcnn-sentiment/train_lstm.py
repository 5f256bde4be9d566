import json
import sys

import torch
import torch.nn as nn

from data import build_vocab, make_loader
from model import LSTMClassifier


def read_jsonl(path):
    texts, labels = [], []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            texts.append(r["text"])
            labels.append(r["label"])
    return texts, labels


def run(train_path, epochs=5):
    texts, labels = read_jsonl(train_path)
    vocab = build_vocab(texts)
    loader = make_loader(texts, labels, vocab, batch_size=32)
    model = LSTMClassifier(len(vocab))
    criterion = nn.BCELoss()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for epoch in range(epochs):
        model.train()
        for tokens, y in loader:
            probs = model(tokens)
            loss = criterion(probs, y)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        print("epoch", epoch, "last loss", loss.item())
    torch.save(model.state_dict(), "lstm.pt")


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "data/imdb_train.jsonl")

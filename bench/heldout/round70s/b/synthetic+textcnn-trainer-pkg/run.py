"""AG News topic classification with a TextCNN."""
import argparse
import logging

import torch

from textcls.data import build_vocab, load_glove, make_loader, read_csv
from textcls.model import TextCNN
from textcls.trainer import Trainer


def main():
    logging.basicConfig(level=logging.INFO)
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="data/ag_news/train.csv")
    ap.add_argument("--test", default="data/ag_news/test.csv")
    ap.add_argument("--glove", default="data/glove.840B.300d.txt")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()

    train_rows, test_rows = read_csv(args.train), read_csv(args.test)
    vocab = build_vocab(train_rows)
    vectors = load_glove(args.glove, vocab)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    model = TextCNN(vectors, num_classes=4).to(device)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    trainer = Trainer(model, optimizer,
                      make_loader(train_rows, vocab, 50, True),
                      make_loader(test_rows, vocab, 256, False), device)
    print("best accuracy:", trainer.fit(args.epochs))


if __name__ == "__main__":
    main()

import argparse

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, TensorDataset

from networks import LABELS, BiLSTMAttention
from trainer import Trainer


def encode(texts, word_index, max_len):
    out = np.zeros((len(texts), max_len), dtype=np.int64)
    for i, t in enumerate(texts):
        ids = [word_index.get(w, 1) for w in str(t).lower().split()][:max_len]
        out[i, : len(ids)] = ids
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="input/train.csv")
    ap.add_argument("--emb", default="input/embedding_matrix.npy")
    ap.add_argument("--vocab", default="input/word_index.npy")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--max-len", type=int, default=220)
    args = ap.parse_args()

    df = pd.read_csv(args.csv)
    word_index = np.load(args.vocab, allow_pickle=True).item()
    emb = np.load(args.emb)
    x = torch.from_numpy(encode(df["comment_text"], word_index, args.max_len))
    y = torch.from_numpy(df[LABELS].values.astype(np.float32))
    split = int(0.9 * len(df))
    train_loader = DataLoader(TensorDataset(x[:split], y[:split]), batch_size=128, shuffle=True)
    valid_loader = DataLoader(TensorDataset(x[split:], y[split:]), batch_size=512)

    pos = y[:split].mean(0)
    pos_weight = ((1 - pos) / pos.clamp(min=1e-4)).sqrt()
    model = BiLSTMAttention(emb)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    trainer = Trainer(model, train_loader, valid_loader, pos_weight, device=device)
    trainer.fit(args.epochs)
    torch.save(model.state_dict(), "bilstm_attention.pt")


if __name__ == "__main__":
    main()

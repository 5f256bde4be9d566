import re
from collections import Counter

import pandas as pd
import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import Dataset

LABEL2ID = {"negative": 0, "neutral": 1, "positive": 2}
TOKEN_RE = re.compile(r"[@#]?\w+|[^\w\s]")


def tokenize(text):
    text = re.sub(r"https?://\S+", "<url>", str(text).lower())
    return TOKEN_RE.findall(text)


def build_vocab(csv_path, min_freq=1):
    counts = Counter()
    for t in pd.read_csv(csv_path)["text"]:
        counts.update(tokenize(t))
    itos = ["<pad>", "<unk>"] + [w for w, c in counts.most_common() if c >= min_freq]
    return {w: i for i, w in enumerate(itos)}


class TweetDataset(Dataset):
    def __init__(self, csv_path, vocab):
        df = pd.read_csv(csv_path)
        self.x = [[vocab.get(w, 1) for w in tokenize(t)] or [1] for t in df["text"]]
        self.y = [LABEL2ID[s] for s in df["sentiment"]]

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return torch.tensor(self.x[i]), self.y[i]


def collate_batch(batch):
    seqs, ys = zip(*batch)
    lengths = torch.tensor([len(s) for s in seqs])
    return pad_sequence(seqs, batch_first=True), lengths, torch.tensor(ys)

import collections
import re

import torch
from torch.utils.data import DataLoader, Dataset

TOKEN_RE = re.compile(r"[a-z0-9']+")


def tokenize(text):
    return TOKEN_RE.findall(text.lower())


def build_vocab(texts, min_freq=2, max_size=30000):
    counter = collections.Counter(tok for t in texts for tok in tokenize(t))
    itos = ["<pad>", "<unk>"] + [w for w, c in counter.most_common(max_size) if c >= min_freq]
    return {w: i for i, w in enumerate(itos)}


class ReviewDataset(Dataset):
    def __init__(self, texts, labels, vocab, max_len=400):
        self.texts, self.labels, self.vocab, self.max_len = texts, labels, vocab, max_len

    def __len__(self):
        return len(self.texts)

    def __getitem__(self, idx):
        ids = [self.vocab.get(t, 1) for t in tokenize(self.texts[idx])][: self.max_len]
        ids += [0] * (self.max_len - len(ids))
        return torch.tensor(ids), torch.tensor(float(self.labels[idx]))


def make_loader(texts, labels, vocab, batch_size=64, shuffle=True):
    return DataLoader(ReviewDataset(texts, labels, vocab), batch_size=batch_size, shuffle=shuffle)

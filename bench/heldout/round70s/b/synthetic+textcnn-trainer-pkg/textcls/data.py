import collections
import csv

import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader


def tokenize(text):
    return text.lower().replace(",", " ,").replace(".", " .").split()


def build_vocab(rows, min_freq=2):
    counter = collections.Counter(tok for _, text in rows for tok in tokenize(text))
    itos = ["<pad>", "<unk>"] + [w for w, c in counter.most_common() if c >= min_freq]
    return {w: i for i, w in enumerate(itos)}


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [(int(label) - 1, title + " " + body) for label, title, body in csv.reader(f)]


def make_loader(rows, vocab, batch_size, shuffle):
    def collate(batch):
        ids = [torch.tensor([vocab.get(t, 1) for t in tokenize(text)][:256] or [1]) for _, text in batch]
        labels = torch.tensor([y for y, _ in batch])
        return pad_sequence(ids, batch_first=True, padding_value=0), labels
    return DataLoader(rows, batch_size=batch_size, shuffle=shuffle, collate_fn=collate)


def load_glove(path, vocab, dim=300):
    vecs = torch.randn(len(vocab), dim) * 0.1
    vecs[0].zero_()
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, *vals = line.rstrip().split(" ")
            if word in vocab and len(vals) == dim:
                vecs[vocab[word]] = torch.tensor([float(v) for v in vals])
    return vecs

import torch
import torch.nn as nn
import torch.nn.functional as F


class BiLSTMClassifier(nn.Module):
    """Tweet sentiment (neg / neutral / pos). Returns (probs, hidden) so the
    attention notebook can reuse the hidden state."""

    def __init__(self, vocab_size, emb_dim=200, hidden=128, n_classes=3, pad_idx=0):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_idx)
        self.lstm = nn.LSTM(emb_dim, hidden, batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(0.4)
        self.out = nn.Linear(hidden * 2, n_classes)

    def forward(self, tokens, lengths):
        e = self.drop(self.emb(tokens))
        packed = nn.utils.rnn.pack_padded_sequence(e, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        h = torch.cat([h[-2], h[-1]], dim=1)
        probs = F.softmax(self.out(self.drop(h)), dim=-1)
        return probs, h


class CNNTextClassifier(nn.Module):
    """Kim-CNN baseline. Returns logits while training, probabilities otherwise."""

    def __init__(self, vocab_size, emb_dim=200, n_filters=100, sizes=(3, 4, 5), n_classes=3):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, emb_dim, padding_idx=0)
        self.convs = nn.ModuleList([nn.Conv1d(emb_dim, n_filters, k) for k in sizes])
        self.fc = nn.Linear(n_filters * len(sizes), n_classes)

    def forward(self, tokens, lengths=None):
        e = self.emb(tokens).transpose(1, 2)
        pooled = [F.relu(c(e)).max(dim=2).values for c in self.convs]
        logits = self.fc(torch.cat(pooled, 1))
        if self.training:
            return logits
        return F.softmax(logits, dim=-1)

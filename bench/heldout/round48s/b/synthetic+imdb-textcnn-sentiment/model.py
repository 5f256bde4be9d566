import torch
import torch.nn as nn


class TextCNN(nn.Module):
    """Kim (2014)-style CNN for binary sentiment."""

    def __init__(self, vocab_size, embed_dim=128, num_filters=100, kernel_sizes=(3, 4, 5), dropout=0.5, pad_idx=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_idx)
        self.convs = nn.ModuleList(
            [nn.Conv1d(embed_dim, num_filters, k) for k in kernel_sizes]
        )
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(num_filters * len(kernel_sizes), 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, tokens):
        emb = self.embedding(tokens).permute(0, 2, 1)
        pooled = [torch.relu(conv(emb)).max(dim=2).values for conv in self.convs]
        h = self.dropout(torch.cat(pooled, dim=1))
        out = self.fc(h).squeeze(1)
        return self.sigmoid(out)


class LSTMClassifier(nn.Module):
    """Baseline: single-layer bidirectional LSTM with mean pooling."""

    def __init__(self, vocab_size, embed_dim=128, hidden=128, pad_idx=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_idx)
        self.lstm = nn.LSTM(embed_dim, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 1)

    def forward(self, tokens):
        out, _ = self.lstm(self.embedding(tokens))
        pooled = out.mean(dim=1)
        return torch.sigmoid(self.head(pooled)).squeeze(1)

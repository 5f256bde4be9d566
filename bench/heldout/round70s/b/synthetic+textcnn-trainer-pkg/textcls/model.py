import torch
import torch.nn as nn


class TextCNN(nn.Module):
    """Kim (2014) CNN for sentence classification, with frozen GloVe embeddings."""

    def __init__(self, vectors, num_classes, kernel_sizes=(3, 4, 5), n_filters=100, dropout=0.5):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(vectors, freeze=True, padding_idx=0)
        dim = vectors.size(1)
        self.convs = nn.ModuleList([nn.Conv1d(dim, n_filters, k) for k in kernel_sizes])
        self.bn = nn.BatchNorm1d(n_filters * len(kernel_sizes))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(n_filters * len(kernel_sizes), num_classes)

    def forward(self, tokens):
        x = self.embedding(tokens).transpose(1, 2)
        pooled = [torch.relu(conv(x)).max(dim=2).values for conv in self.convs]
        h = self.dropout(self.bn(torch.cat(pooled, dim=1)))
        logits = self.fc(h)
        return torch.softmax(logits, dim=-1)

    @torch.no_grad()
    def predict(self, tokens):
        self.eval()
        return self.forward(tokens).argmax(-1)

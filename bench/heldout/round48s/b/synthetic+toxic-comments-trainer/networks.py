import torch
import torch.nn as nn

LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


class BiLSTMAttention(nn.Module):
    """BiLSTM encoder with additive attention pooling, one output per label."""

    def __init__(self, embedding_matrix, hidden_size=96, num_labels=len(LABELS), dropout=0.2):
        super().__init__()
        vocab, dim = embedding_matrix.shape
        self.embedding = nn.Embedding(vocab, dim)
        self.embedding.weight = nn.Parameter(torch.as_tensor(embedding_matrix, dtype=torch.float), requires_grad=False)
        self.spatial_dropout = nn.Dropout2d(dropout)
        self.lstm = nn.LSTM(dim, hidden_size, batch_first=True, bidirectional=True)
        self.attn = nn.Linear(2 * hidden_size, 1)
        self.classifier = nn.Sequential(
            nn.Linear(4 * hidden_size, hidden_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, num_labels),
        )

    def forward(self, ids):
        x = self.embedding(ids)
        x = self.spatial_dropout(x.unsqueeze(-1).transpose(1, 2)).transpose(1, 2).squeeze(-1)
        h, _ = self.lstm(x)
        weights = torch.softmax(self.attn(h).squeeze(-1), dim=1)
        attended = (h * weights.unsqueeze(-1)).sum(1)
        max_pool = h.max(dim=1).values
        logits = self.classifier(torch.cat([attended, max_pool], dim=1))
        return torch.sigmoid(logits)

"""Tweet sentiment (3 classes) with a frozen DistilBERT encoder and a trainable attention-pool head.

Course project, week 9. Run: python train.py --epochs 10
"""
import argparse

import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset
from transformers import AutoModel, AutoTokenizer

LABELS = {"negative": 0, "neutral": 1, "positive": 2}


class TweetDS(Dataset):
    def __init__(self, df, tok, max_len=64):
        self.enc = tok(df.text.tolist(), truncation=True, padding="max_length", max_length=max_len,
                       return_tensors="pt")
        self.y = torch.tensor(df.sentiment.map(LABELS).values)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {k: v[i] for k, v in self.enc.items()}, self.y[i]


class FrozenEncoderClassifier(nn.Module):
    def __init__(self, name="distilbert-base-uncased", n_classes=3):
        super().__init__()
        self.encoder = AutoModel.from_pretrained(name)
        for p in self.encoder.parameters():
            p.requires_grad = False
        hid = self.encoder.config.hidden_size
        self.attn = nn.Linear(hid, 1)
        self.norm = nn.BatchNorm1d(hid)
        self.out = nn.Linear(hid, n_classes)

    def forward(self, input_ids, attention_mask):
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        w = self.attn(h).squeeze(-1).masked_fill(attention_mask == 0, -1e4).softmax(-1)
        pooled = (w.unsqueeze(-1) * h).sum(1)
        return self.out(self.norm(pooled))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="data/Tweets.csv")
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tok = AutoTokenizer.from_pretrained("distilbert-base-uncased")
    df = pd.read_csv(args.csv).dropna(subset=["text"])
    train_df = df.sample(frac=0.9, random_state=1)
    loader = DataLoader(TweetDS(train_df, tok), batch_size=64, shuffle=True)

    model = FrozenEncoderClassifier().to(device)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        model.train()
        tot = 0.0
        for batch, y in loader:
            batch = {k: v.to(device) for k, v in batch.items()}
            logits = model(batch["input_ids"], batch["attention_mask"])
            loss = loss_fn(logits, y.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            tot += loss.item()
        print(f"epoch {epoch}: {tot / len(loader):.4f}")


if __name__ == "__main__":
    main()

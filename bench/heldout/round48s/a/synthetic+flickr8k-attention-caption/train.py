import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from datasets import CaptionDataset
from models import AttnDecoder, Encoder

config = {
    "data_folder": "data/flickr8k",
    "epochs": 20,
    "batch_size": 32,
    "decoder_lr": 4e-4,
    "grad_clip": 5.0,
    "vocab_size": 5000,
}


def train_epoch(loader, encoder, decoder, criterion, optimizer, device):
    encoder.train()
    decoder.train()
    total = 0.0
    for imgs, caps in loader:
        imgs, caps = imgs.to(device), caps.to(device)
        enc = encoder(imgs)
        scores = decoder(enc, caps)
        loss = criterion(scores.reshape(-1, scores.size(-1)), caps[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(decoder.parameters(), config["grad_clip"])
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def main():
    device = torch.device("cuda")
    encoder = Encoder().to(device)
    decoder = AttnDecoder(config["vocab_size"]).to(device)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=config["decoder_lr"])
    criterion = nn.CrossEntropyLoss(ignore_index=0)
    loader = DataLoader(CaptionDataset(config["data_folder"], "TRAIN"),
                        batch_size=config["batch_size"], shuffle=True, num_workers=4)
    for epoch in range(config["epochs"]):
        loss = train_epoch(loader, encoder, decoder, criterion, optimizer, device)
        print(f"epoch {epoch} loss {loss:.4f}")
        torch.save({"encoder": encoder.state_dict(), "decoder": decoder.state_dict()},
                   f"checkpoint_{epoch}.pth")


if __name__ == "__main__":
    main()

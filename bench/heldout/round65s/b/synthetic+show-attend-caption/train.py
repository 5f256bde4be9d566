import torch
import torch.nn as nn

from models import DecoderWithAttention, Encoder

# ---- parameters ----
emb_dim = 512
decoder_dim = 512
epochs = 120
batch_size = 32
decoder_lr = 4e-4
encoder_lr = 1e-4
fine_tune_encoder = False  # set True to also train resnet blocks 2-4
grad_clip = 5.0
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train(loader, encoder, decoder, criterion, encoder_optimizer, decoder_optimizer, epoch):
    decoder.train()
    encoder.train()
    for i, (imgs, caps, lengths) in enumerate(loader):
        imgs, caps = imgs.to(device), caps.to(device)
        feats = encoder(imgs)
        scores = decoder(feats, caps, lengths)
        targets = caps[:, 1:scores.size(1) + 1]
        loss = criterion(scores.reshape(-1, scores.size(-1)), targets.reshape(-1))
        decoder_optimizer.zero_grad()
        if encoder_optimizer is not None:
            encoder_optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(decoder.parameters(), grad_clip)
        decoder_optimizer.step()
        if encoder_optimizer is not None:
            encoder_optimizer.step()
        if i % 100 == 0:
            print(f"epoch {epoch} [{i}/{len(loader)}] loss {loss.item():.4f}")


def main(train_loader, vocab_size):
    decoder = DecoderWithAttention(vocab_size, emb_dim, decoder_dim).to(device)
    decoder_optimizer = torch.optim.Adam(decoder.parameters(), lr=decoder_lr)
    encoder = Encoder()
    encoder.fine_tune(fine_tune_encoder)
    encoder_optimizer = torch.optim.Adam(
        filter(lambda p: p.requires_grad, encoder.parameters()), lr=encoder_lr) if fine_tune_encoder else None
    encoder = encoder.to(device)
    criterion = nn.CrossEntropyLoss(ignore_index=0).to(device)
    for epoch in range(epochs):
        train(train_loader, encoder, decoder, criterion, encoder_optimizer, decoder_optimizer, epoch)
        torch.save({"encoder": encoder.state_dict(), "decoder": decoder.state_dict()}, "ckpt.pth")

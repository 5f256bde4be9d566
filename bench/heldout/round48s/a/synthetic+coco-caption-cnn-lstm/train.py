import argparse
import os

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence

from data_loader import get_loader
from model import DecoderRNN, EncoderCNN


def main(args):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    os.makedirs(args.model_path, exist_ok=True)
    loader, vocab = get_loader(args.image_dir, args.caption_path, args.batch_size)

    encoder = EncoderCNN(args.embed_size).to(device)
    decoder = DecoderRNN(args.embed_size, args.hidden_size, len(vocab), args.num_layers).to(device)
    criterion = nn.CrossEntropyLoss()
    params = list(decoder.parameters()) + list(encoder.embed.parameters()) + list(encoder.bn.parameters())
    optimizer = torch.optim.Adam(params, lr=args.learning_rate)

    encoder.train()
    decoder.train()
    for epoch in range(args.num_epochs):
        for i, (images, captions, lengths) in enumerate(loader):
            images = images.to(device)
            captions = captions.to(device)
            targets = pack_padded_sequence(captions, lengths, batch_first=True)[0]
            features = encoder(images)
            outputs = decoder(features, captions, lengths)
            loss = criterion(outputs, targets)
            decoder.zero_grad()
            encoder.zero_grad()
            loss.backward()
            optimizer.step()
            if i % args.log_step == 0:
                print(f"Epoch [{epoch}/{args.num_epochs}] Step [{i}] Loss: {loss.item():.4f}")
        torch.save(decoder.state_dict(), os.path.join(args.model_path, f"decoder-{epoch + 1}.ckpt"))
        torch.save(encoder.state_dict(), os.path.join(args.model_path, f"encoder-{epoch + 1}.ckpt"))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--model_path", default="models/")
    p.add_argument("--image_dir", default="data/resized2014")
    p.add_argument("--caption_path", default="data/annotations/captions_train2014.json")
    p.add_argument("--embed_size", type=int, default=256)
    p.add_argument("--hidden_size", type=int, default=512)
    p.add_argument("--num_layers", type=int, default=1)
    p.add_argument("--num_epochs", type=int, default=5)
    p.add_argument("--batch_size", type=int, default=128)
    p.add_argument("--learning_rate", type=float, default=1e-3)
    p.add_argument("--log_step", type=int, default=10)
    main(p.parse_args())

import argparse

import torch
import torchvision.transforms as T
from PIL import Image
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
from torchvision.utils import save_image

from model import StyleTransferModel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="/data/coco/train2014_folder")
    ap.add_argument("--style", default="styles/mosaic.jpg")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()

    device = "cuda"
    tf = T.Compose([T.Resize(256), T.CenterCrop(256), T.ToTensor()])
    loader = DataLoader(ImageFolder(args.dataset, tf), batch_size=4, shuffle=True, num_workers=4)
    style = tf(Image.open(args.style).convert("RGB")).unsqueeze(0)

    model = StyleTransferModel(style).to(device)
    optimizer = torch.optim.Adam(model.transformer.parameters(), lr=args.lr)
    model.train()
    for epoch in range(args.epochs):
        for step, (x, _) in enumerate(loader):
            loss, out = model(x.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 500 == 0:
                print(f"epoch {epoch} step {step} loss {loss.item():.1f}")
                save_image(out[:4].clamp(0, 1), f"samples/e{epoch}_s{step}.png")
    torch.save(model.transformer.state_dict(), "mosaic.pth")


if __name__ == "__main__":
    main()

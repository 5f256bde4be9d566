"""Variant used for the small-data runs: only the last ResNet stage is tuned."""
import torch
from torch.utils.data import DataLoader

from data import CocoCenterDataset
from losses import centernet_loss
from model import CenterNetR18

TUNED_PREFIXES = ("backbone.7.", "up.", "hm.", "wh.", "reg.")


def main(epochs=40, lr=1.25e-4):
    net = CenterNetR18(num_classes=20).cuda()
    for name, param in net.named_parameters():
        if not name.startswith(TUNED_PREFIXES):
            param.requires_grad = False
    optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=lr)
    loader = DataLoader(CocoCenterDataset("data/voc_coco", "train"), batch_size=16,
                        shuffle=True, num_workers=4)
    for epoch in range(epochs):
        net.train()
        for batch in loader:
            batch = {k: v.cuda() for k, v in batch.items()}
            loss = centernet_loss(net(batch["image"]), batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch} loss {loss.item():.4f}")


if __name__ == "__main__":
    main()

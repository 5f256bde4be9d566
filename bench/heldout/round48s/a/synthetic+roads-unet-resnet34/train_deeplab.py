import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision.models.segmentation import deeplabv3_mobilenet_v3_large

from dataset import RoadDataset


def build():
    net = deeplabv3_mobilenet_v3_large(weights="DEFAULT")
    net.classifier[4] = nn.Conv2d(256, 1, kernel_size=1)
    net.aux_classifier = None
    for p in net.backbone.parameters():
        p.requires_grad = False
    return net


def main(epochs=25):
    net = build().cuda()
    opt = torch.optim.SGD(net.classifier.parameters(), lr=0.01, momentum=0.9)
    crit = nn.BCEWithLogitsLoss()
    dl = DataLoader(RoadDataset("data/roads", "train"), batch_size=8, shuffle=True)
    for epoch in range(epochs):
        net.train()
        net.backbone.eval()
        for img, mask in dl:
            out = net(img.cuda())["out"]
            loss = crit(out, mask.cuda())
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(epoch, loss.item())


if __name__ == "__main__":
    main()

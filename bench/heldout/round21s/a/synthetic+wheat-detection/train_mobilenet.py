# Lighter detector following the torchvision tutorial: MobileNetV2 features as backbone.
# Backbone is frozen to fit on a 6GB card.
import pandas as pd
import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.rpn import AnchorGenerator

from train_frcnn import DIR, WheatDataset, collate


def mobilenet_frcnn(num_classes=2, freeze_backbone=True):
    backbone = torchvision.models.mobilenet_v2(pretrained=True).features
    backbone.out_channels = 1280
    if freeze_backbone:
        for p in backbone.parameters():
            p.requires_grad = False
    anchor_generator = AnchorGenerator(sizes=((32, 64, 128, 256),), aspect_ratios=((0.5, 1.0, 2.0),))
    roi_pooler = torchvision.ops.MultiScaleRoIAlign(featmap_names=["0"], output_size=7, sampling_ratio=2)
    return FasterRCNN(backbone, num_classes=num_classes,
                      rpn_anchor_generator=anchor_generator, box_roi_pool=roi_pooler)


def main():
    df = pd.read_csv(f"{DIR}/train.csv")
    loader = DataLoader(WheatDataset(df, f"{DIR}/train"), batch_size=8, shuffle=True, collate_fn=collate)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = mobilenet_frcnn().to(device)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                                lr=0.01, momentum=0.9, weight_decay=1e-4)
    lr_sched = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.1)
    for epoch in range(15):
        model.train()
        for i, (images, targets) in enumerate(loader):
            images = [im.to(device) for im in images]
            targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
            loss = sum(model(images, targets).values())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if i % 50 == 0:
                print(f"ep {epoch} it {i} loss {loss.item():.3f}")
        lr_sched.step()
        torch.save(model.state_dict(), f"mbv2_frcnn_{epoch}.pth")


if __name__ == "__main__":
    main()

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision.models import ResNet50_Weights
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone

from voc_data import VOCDetection, collate_fn

CFG = {
    "num_classes": 21,
    "epochs": 26,
    "lr": 0.02,
    "trainable_layers": 3,
    "batch_size": 4,
}


def build_detector(cfg):
    # plain BatchNorm2d instead of the default FrozenBatchNorm2d so that
    # the later stages can adapt their statistics to VOC
    backbone = resnet_fpn_backbone(
        backbone_name="resnet50",
        weights=ResNet50_Weights.IMAGENET1K_V1,
        norm_layer=nn.BatchNorm2d,
        trainable_layers=cfg["trainable_layers"],
    )
    return FasterRCNN(backbone, num_classes=cfg["num_classes"])


def train(cfg):
    detector = build_detector(cfg).cuda()
    params = [p for p in detector.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=cfg["lr"], momentum=0.9, weight_decay=1e-4)
    loader = DataLoader(VOCDetection("data/VOC2012", "train"), batch_size=cfg["batch_size"],
                        shuffle=True, collate_fn=collate_fn)
    for epoch in range(cfg["epochs"]):
        detector.train()
        for images, targets in loader:
            images = [im.cuda() for im in images]
            targets = [{k: v.cuda() for k, v in t.items()} for t in targets]
            loss = sum(detector(images, targets).values())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        torch.save(detector.state_dict(), f"frcnn_bn_{epoch}.pth")


if __name__ == "__main__":
    train(CFG)

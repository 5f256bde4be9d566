import argparse

import torch
from torch.utils.data import DataLoader
from torchvision.models.detection import fasterrcnn_resnet50_fpn
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor

from voc_data import VOCDetection, collate_fn


def get_model(num_classes, trainable_layers=3):
    model = fasterrcnn_resnet50_fpn(weights="DEFAULT", trainable_backbone_layers=trainable_layers)
    in_features = model.roi_heads.box_predictor.cls_score.in_features
    model.roi_heads.box_predictor = FastRCNNPredictor(in_features, num_classes)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=26)
    ap.add_argument("--trainable-layers", type=int, default=3)
    args = ap.parse_args()
    model = get_model(21, args.trainable_layers).cuda()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.02, momentum=0.9, weight_decay=1e-4)
    loader = DataLoader(VOCDetection("data/VOC2012", "train"), batch_size=4,
                        shuffle=True, collate_fn=collate_fn)
    for epoch in range(args.epochs):
        model.train()
        for images, targets in loader:
            images = [im.cuda() for im in images]
            targets = [{k: v.cuda() for k, v in t.items()} for t in targets]
            losses = model(images, targets)
            loss = sum(losses.values())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch} loss {loss.item():.3f}")


if __name__ == "__main__":
    main()

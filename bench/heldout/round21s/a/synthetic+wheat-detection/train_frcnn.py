# Global Wheat Detection - Faster R-CNN with the ResNet body frozen
import ast

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.models.detection import fasterrcnn_resnet50_fpn
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
import torchvision.transforms.functional as TF

DIR = "../input/global-wheat-detection"
EPOCHS = 12


class WheatDataset(Dataset):
    def __init__(self, df, img_dir):
        self.ids = df.image_id.unique()
        self.df = df
        self.img_dir = img_dir

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        image_id = self.ids[i]
        recs = self.df[self.df.image_id == image_id]
        img = TF.to_tensor(Image.open(f"{self.img_dir}/{image_id}.jpg").convert("RGB"))
        boxes = np.stack([ast.literal_eval(b) for b in recs.bbox]).astype(np.float32)
        boxes[:, 2] += boxes[:, 0]
        boxes[:, 3] += boxes[:, 1]
        target = {
            "boxes": torch.as_tensor(boxes),
            "labels": torch.ones((len(boxes),), dtype=torch.int64),
        }
        return img, target


def collate(batch):
    return tuple(zip(*batch))


def get_model():
    model = fasterrcnn_resnet50_fpn(pretrained=True)
    in_features = model.roi_heads.box_predictor.cls_score.in_features
    model.roi_heads.box_predictor = FastRCNNPredictor(in_features, 2)
    # the resnet body uses FrozenBatchNorm2d already; also freeze its conv weights
    for p in model.backbone.body.parameters():
        p.requires_grad = False
    return model


if __name__ == "__main__":
    df = pd.read_csv(f"{DIR}/train.csv")
    loader = DataLoader(WheatDataset(df, f"{DIR}/train"), batch_size=4, shuffle=True, collate_fn=collate)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = get_model().to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.005, momentum=0.9, weight_decay=0.0005)
    for epoch in range(EPOCHS):
        model.train()
        total = 0.0
        for images, targets in loader:
            images = [im.to(device) for im in images]
            targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
            loss_dict = model(images, targets)
            losses = sum(loss_dict.values())
            optimizer.zero_grad()
            losses.backward()
            optimizer.step()
            total += losses.item()
        print(f"Epoch #{epoch} loss: {total / len(loader):.4f}")
    torch.save(model.state_dict(), "fasterrcnn_wheat.pth")

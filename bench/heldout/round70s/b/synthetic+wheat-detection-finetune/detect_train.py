"""Global Wheat Detection: Faster R-CNN with a fixed ImageNet backbone (FPN + heads trained)."""
import torch
import torchvision
from torchvision.models.detection import FasterRCNN_ResNet50_FPN_Weights, fasterrcnn_resnet50_fpn
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor

from dataset import WheatDataset
from utils import collate_fn


def get_detector(num_classes=2):
    model = fasterrcnn_resnet50_fpn(weights=FasterRCNN_ResNet50_FPN_Weights.DEFAULT,
                                    trainable_backbone_layers=0)
    in_features = model.roi_heads.box_predictor.cls_score.in_features
    model.roi_heads.box_predictor = FastRCNNPredictor(in_features, num_classes)
    return model


def main(epochs=12):
    device = torch.device("cuda")
    ds = WheatDataset("/kaggle/input/global-wheat-detection", train=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=8, shuffle=True, num_workers=4, collate_fn=collate_fn)
    model = get_detector().to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)
    lr_sched = torch.optim.lr_scheduler.StepLR(optimizer, step_size=8, gamma=0.1)
    for epoch in range(epochs):
        model.train()
        for images, targets in loader:
            images = [im.to(device) for im in images]
            targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
            loss_dict = model(images, targets)
            losses = sum(loss_dict.values())
            optimizer.zero_grad()
            losses.backward()
            optimizer.step()
        lr_sched.step()
        print(f"epoch {epoch}: " + ", ".join(f"{k}={v.item():.3f}" for k, v in loss_dict.items()))
        torch.save(model.state_dict(), f"fasterrcnn_wheat_e{epoch}.pth")


if __name__ == "__main__":
    main()

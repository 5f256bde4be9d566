import torch
import torch.optim as optim
from torch.utils.data import DataLoader
from tqdm import tqdm

from nets.yolo import YoloBody
from utils.dataloader import YoloDataset, yolo_collate
from utils.loss import YOLOLoss

anchors_mask = [[6, 7, 8], [3, 4, 5], [0, 1, 2]]
num_classes = 20
Init_Epoch = 0
Freeze_Epoch = 50
UnFreeze_Epoch = 300
Freeze_Train = True
Freeze_batch_size = 16
Unfreeze_batch_size = 8


def fit_one_epoch(model, yolo_loss, optimizer, epoch, loader, Epoch):
    model.train()
    total = 0.0
    for iteration, (images, targets) in enumerate(tqdm(loader, desc=f"Epoch {epoch + 1}/{Epoch}")):
        images = images.cuda()
        targets = [t.cuda() for t in targets]
        optimizer.zero_grad()
        outputs = model(images)
        loss = sum(yolo_loss(l, outputs[l], targets) for l in range(len(outputs)))
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / (iteration + 1)


if __name__ == "__main__":
    model = YoloBody(anchors_mask, num_classes)
    model.load_state_dict(torch.load("model_data/yolo_weights.pth"), strict=False)
    model = model.cuda()
    yolo_loss = YOLOLoss(num_classes, anchors_mask)
    dataset = YoloDataset("2007_train.txt", input_shape=(416, 416))

    if Freeze_Train:
        for param in model.backbone.parameters():
            param.requires_grad = False

    batch_size = Freeze_batch_size if Freeze_Train else Unfreeze_batch_size
    optimizer = optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), 1e-3, weight_decay=5e-4)
    lr_scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.94)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, collate_fn=yolo_collate)
    UnFreeze_flag = False

    for epoch in range(Init_Epoch, UnFreeze_Epoch):
        if epoch >= Freeze_Epoch and not UnFreeze_flag and Freeze_Train:
            for param in model.backbone.parameters():
                param.requires_grad = True
            optimizer.add_param_group({"params": model.backbone.parameters()})
            loader = DataLoader(dataset, batch_size=Unfreeze_batch_size, shuffle=True,
                                collate_fn=yolo_collate)
            UnFreeze_flag = True
        fit_one_epoch(model, yolo_loss, optimizer, epoch, loader, UnFreeze_Epoch)
        lr_scheduler.step()

"""ACDC cardiac MRI (LV, RV, MYO) 2-D segmentation with a plain U-Net."""
import torch

from acdc import get_loaders
from nets.losses import DiceCELoss
from nets.unet import UNet


def dice_per_class(pred, target, n=4):
    out = []
    for c in range(1, n):
        p, t = pred == c, target == c
        out.append((2 * (p & t).sum() / (p.sum() + t.sum()).clamp(min=1)).item())
    return out


def main(epochs=150):
    train_dl, val_dl = get_loaders("/data/ACDC", batch_size=16)
    net = UNet(in_ch=1, n_classes=4).cuda()
    loss_fn = DiceCELoss(n_classes=4)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.99, nesterov=True, weight_decay=3e-5)
    for epoch in range(epochs):
        net.train()
        for img, seg in train_dl:
            img, seg = img.cuda(), seg.long().cuda()
            loss = loss_fn(net(img), seg)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 12)
            opt.step()
        net.eval()
        with torch.no_grad():
            scores = [dice_per_class(net(i.cuda()).argmax(1), s.cuda()) for i, s in val_dl]
        print(epoch, loss.item(), torch.tensor(scores).mean(0).tolist())


if __name__ == "__main__":
    main()

import torch
import torch.nn.functional as F


def focal_loss(pred, gt, alpha=2, beta=4):
    pos = gt.eq(1).float()
    neg = 1 - pos
    pred = pred.clamp(1e-4, 1 - 1e-4)
    pos_loss = torch.log(pred) * (1 - pred) ** alpha * pos
    neg_loss = torch.log(1 - pred) * pred ** alpha * (1 - gt) ** beta * neg
    num_pos = pos.sum()
    if num_pos == 0:
        return -neg_loss.sum()
    return -(pos_loss.sum() + neg_loss.sum()) / num_pos


def reg_l1(pred, target, mask):
    mask = mask.unsqueeze(1).expand_as(pred).float()
    return F.l1_loss(pred * mask, target * mask, reduction="sum") / (mask.sum() + 1e-4)


def centernet_loss(out, batch, wh_weight=0.1):
    hm = focal_loss(out["hm"], batch["hm"])
    wh = reg_l1(out["wh"], batch["wh"], batch["mask"])
    off = reg_l1(out["reg"], batch["reg"], batch["mask"])
    return hm + wh_weight * wh + off

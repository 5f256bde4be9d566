import sys

import torch

from reid.config import get_cfg
from reid.data import build_loaders
from reid.engine import Engine
from reid.losses import build_loss
from reid.modeling import build_model


def evaluate(engine, query_loader, gallery_loader):
    qf, qp = engine.extract(query_loader)
    gf, gp = engine.extract(gallery_loader)
    dist = torch.cdist(torch.nn.functional.normalize(qf), torch.nn.functional.normalize(gf))
    rank1 = (gp[dist.argmin(1)] == qp).float().mean().item()
    return rank1


def main(argv):
    cfg = get_cfg(argv)
    train_loader, query_loader, gallery_loader = build_loaders(cfg)
    model = build_model(cfg)
    loss_fn = build_loss(cfg)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=cfg["SOLVER.LR"], weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [40, 70], gamma=0.1)
    engine = Engine(model, loss_fn, optimizer, scheduler)
    for epoch in range(cfg["SOLVER.EPOCHS"]):
        engine.run_epoch(train_loader, epoch)
        if (epoch + 1) % 10 == 0:
            print(f"rank-1: {evaluate(engine, query_loader, gallery_loader):.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])

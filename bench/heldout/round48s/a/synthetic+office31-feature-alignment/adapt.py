import argparse
import itertools

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from nets import ResNetFeat, load_source_model
from office import OfficeDomain


def coral(src, tgt):
    d = src.size(1)
    cs = torch.cov(src.T)
    ct = torch.cov(tgt.T)
    return ((cs - ct) ** 2).sum() / (4 * d * d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", default="amazon")
    ap.add_argument("--target", default="webcam")
    ap.add_argument("--source-ckpt", default="ckpt/amazon_r50.pth")
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--lam", type=float, default=1.0)
    args = ap.parse_args()

    src_dl = DataLoader(OfficeDomain("data/office31", args.source), batch_size=32, shuffle=True, drop_last=True)
    tgt_dl = DataLoader(OfficeDomain("data/office31", args.target), batch_size=32, shuffle=True, drop_last=True)
    source_net = load_source_model(args.source_ckpt).cuda()
    target_net = ResNetFeat(31).cuda()
    target_net.load_state_dict(source_net.state_dict())
    optimizer = torch.optim.SGD(target_net.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)

    for net in (source_net, target_net):
        net.train()
    batches = zip(itertools.cycle(src_dl), itertools.cycle(tgt_dl))
    for step, ((xs, ys), (xt, _)) in enumerate(batches):
        if step >= args.steps:
            break
        xs, ys, xt = xs.cuda(), ys.cuda(), xt.cuda()
        with torch.no_grad():
            fs = source_net.features(xs)
        ft = target_net.features(xt)
        loss = F.cross_entropy(target_net(xs), ys) + args.lam * coral(fs, ft)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.4f}")


if __name__ == "__main__":
    main()

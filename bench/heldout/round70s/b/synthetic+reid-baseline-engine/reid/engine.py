import time

import torch


class Engine:
    def __init__(self, model, loss_fn, optimizer, scheduler, device="cuda", log_period=50):
        self.model = model.to(device)
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.device = device
        self.log_period = log_period

    def run_epoch(self, loader, epoch):
        self.model.train()
        start = time.time()
        for it, (imgs, pids) in enumerate(loader):
            imgs, pids = imgs.to(self.device), pids.to(self.device)
            score, feat = self.model(imgs)
            loss = self.loss_fn(score, feat, pids)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            if it % self.log_period == 0:
                acc = (score.argmax(1) == pids).float().mean().item()
                print(f"Epoch[{epoch}] Iter[{it}/{len(loader)}] loss {loss.item():.3f} acc {acc:.3f}")
        self.scheduler.step()
        print(f"epoch {epoch} done in {time.time() - start:.0f}s")

    @torch.no_grad()
    def extract(self, loader):
        self.model.eval()
        feats, pids = [], []
        for imgs, pid in loader:
            feats.append(self.model(imgs.to(self.device)).cpu())
            pids.append(pid)
        return torch.cat(feats), torch.cat(pids)

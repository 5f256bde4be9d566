import torch


def make_variable(t, device="cuda"):
    return t.to(device, non_blocking=True)


def freeze(module):
    for p in module.parameters():
        p.requires_grad = False


def save_model(net, path):
    torch.save(net.state_dict(), path)


class AverageMeter:
    def __init__(self):
        self.sum, self.count = 0.0, 0

    def update(self, val, n=1):
        self.sum += val * n
        self.count += n

    @property
    def avg(self):
        return self.sum / max(self.count, 1)

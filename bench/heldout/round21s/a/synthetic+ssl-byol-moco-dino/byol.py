# Minimal BYOL on STL-10 (unlabeled split)
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision import transforms as T


def mlp(dim, hidden=4096, out=256):
    return nn.Sequential(nn.Linear(dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out))


class BYOL(nn.Module):
    def __init__(self, tau=0.996):
        super().__init__()
        net = torchvision.models.resnet18()
        net.fc = nn.Identity()
        self.online = nn.Sequential(net, mlp(512))
        self.predictor = mlp(256)
        self.target = copy.deepcopy(self.online)
        for p in self.target.parameters():
            p.requires_grad = False
        self.tau = tau

    @torch.no_grad()
    def update_target(self):
        for po, pt in zip(self.online.parameters(), self.target.parameters()):
            pt.data.mul_(self.tau).add_(po.data, alpha=1 - self.tau)

    def loss(self, x1, x2):
        p1, p2 = self.predictor(self.online(x1)), self.predictor(self.online(x2))
        with torch.no_grad():
            z1, z2 = self.target(x1), self.target(x2)
        l = 2 - 2 * F.cosine_similarity(p1, z2.detach(), dim=-1)
        l = l + 2 - 2 * F.cosine_similarity(p2, z1.detach(), dim=-1)
        return l.mean()


aug = T.Compose([T.RandomResizedCrop(96), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4, 0.1),
                 T.RandomGrayscale(0.2), T.ToTensor()])


class TwoView:
    def __call__(self, x):
        return aug(x), aug(x)


if __name__ == "__main__":
    device = "cuda" if torch.cuda.is_available() else "cpu"
    ds = torchvision.datasets.STL10("data", split="unlabeled", transform=TwoView(), download=True)
    dl = torch.utils.data.DataLoader(ds, batch_size=256, shuffle=True, num_workers=8, drop_last=True)
    model = BYOL().to(device)
    opt = torch.optim.Adam(list(model.online.parameters()) + list(model.predictor.parameters()), lr=3e-4)
    for epoch in range(100):
        model.train()
        for (x1, x2), _ in dl:
            loss = model.loss(x1.to(device), x2.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            model.update_target()
        print(epoch, loss.item())

"""Contrastive representation distillation: teacher, student and embed heads kept in a ModuleList."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as models


class Embed(nn.Module):
    def __init__(self, dim_in, dim_out=128):
        super().__init__()
        self.linear = nn.Linear(dim_in, dim_out)

    def forward(self, x):
        return F.normalize(self.linear(torch.flatten(x, 1)), dim=1)


def penultimate(net, x):
    modules = list(net.children())[:-1]
    for m in modules:
        x = m(x)
    return x


def build(device):
    model_s = models.resnet18(num_classes=1000)
    model_t = models.resnet50(weights="IMAGENET1K_V2")
    embed_s, embed_t = Embed(512), Embed(2048)
    module_list = nn.ModuleList([model_s, embed_s, embed_t])
    trainable_list = nn.ModuleList([model_s, embed_s, embed_t])
    module_list.append(model_t)
    optimizer = torch.optim.SGD(trainable_list.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    return module_list.to(device), optimizer


def train_epoch(module_list, loader, optimizer, nce_t=0.07, device="cuda"):
    for module in module_list:
        module.train()
    model_s, embed_s, embed_t, model_t = module_list
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits_s = model_s(x)
        with torch.no_grad():
            f_t = penultimate(model_t, x)
        z_s = embed_s(penultimate(model_s, x))
        z_t = embed_t(f_t)
        sim = z_s @ z_t.t() / nce_t
        labels = torch.arange(sim.size(0), device=device)
        loss = F.cross_entropy(logits_s, y) + 0.8 * F.cross_entropy(sim, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

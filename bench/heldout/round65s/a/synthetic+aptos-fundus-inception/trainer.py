import torch
import torch.nn as nn
from torchvision import models


def inception_head_only(num_classes=5):
    net = models.inception_v3(weights=models.Inception_V3_Weights.IMAGENET1K_V1, aux_logits=True)
    net.requires_grad_(False)
    net.fc = nn.Linear(net.fc.in_features, num_classes)
    net.AuxLogits.fc = nn.Linear(net.AuxLogits.fc.in_features, num_classes)
    return net


class FundusTrainer:
    def __init__(self, model, loaders, lr=1e-3, device="cuda", aux_weight=0.4):
        self.model = model.to(device)
        self.loaders = loaders
        self.device = device
        self.aux_weight = aux_weight
        self.criterion = nn.CrossEntropyLoss()
        trainable = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(trainable, lr=lr)

    def step(self, x, y):
        out, aux = self.model(x)
        loss = self.criterion(out, y) + self.aux_weight * self.criterion(aux, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def fit(self, epochs):
        history = []
        for epoch in range(epochs):
            self.model.train()
            losses = [self.step(x.to(self.device), y.to(self.device)) for x, y in self.loaders["train"]]
            history.append(sum(losses) / len(losses))
            print(f"epoch {epoch + 1}/{epochs} loss {history[-1]:.4f}")
        return history

# Stanford Dogs: fine-tune layer3/layer4/fc of ResNet-101, keep the stem + first two stages fixed
import torch
import torch.nn as nn
from torchvision import models

from common import accuracy, freeze_layers, stanford_dogs_loaders

EPOCHS = 30
LR = 0.01

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
train_loader, test_loader = stanford_dogs_loaders("data/stanford_dogs")

net = models.resnet101(pretrained=True)
net.fc = nn.Linear(net.fc.in_features, 120)
freeze_layers(net, ["conv1", "bn1", "layer1", "layer2"])
net = net.to(device)

optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, net.parameters()), lr=LR,
                            momentum=0.9, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[15, 25], gamma=0.1)
criterion = nn.CrossEntropyLoss()

for epoch in range(EPOCHS):
    net.train()
    for step, (x, y) in enumerate(train_loader):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        loss = criterion(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"epoch {epoch} step {step} loss {loss.item():.4f}")
    scheduler.step()
    print(f"epoch {epoch} test acc {accuracy(net, test_loader, device):.4f}")
torch.save(net.state_dict(), "resnet101_dogs.pth")

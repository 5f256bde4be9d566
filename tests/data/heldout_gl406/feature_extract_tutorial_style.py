# expect: GL406 8
# Feature extraction in the style of the transfer-learning tutorials: every parameter of
# the pretrained net frozen, a new fc, and a train/val phase loop that calls model.train().
import torch
import torchvision

net = torchvision.models.resnet18(pretrained=True)
net.requires_grad_(False)
net.fc = torch.nn.Linear(net.fc.in_features, 2)
opt = torch.optim.SGD(net.fc.parameters(), lr=0.001, momentum=0.9)
loss_fn = torch.nn.CrossEntropyLoss()

for epoch in range(10):
    for phase in ("train", "val"):
        if phase == "train":
            net.train()
        else:
            net.eval()
        for x, y in loaders[phase]:
            opt.zero_grad()
            with torch.set_grad_enabled(phase == "train"):
                loss = loss_fn(net(x), y)
                if phase == "train":
                    loss.backward()
                    opt.step()

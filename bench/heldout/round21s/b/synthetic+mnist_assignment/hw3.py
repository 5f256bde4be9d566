# CS-X 231 Homework 3 -- MNIST / FashionMNIST classifiers
# Q1: MLP with log_softmax + NLLLoss
# Q2: CNN, same log_softmax head but CrossEntropyLoss (TA says this is "fine")
# Q3: CNN with raw logits, report calibrated probabilities on the test set
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

torch.manual_seed(0)
tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
train_set = datasets.MNIST("./data", train=True, download=True, transform=tf)
test_set = datasets.MNIST("./data", train=False, transform=tf)
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
test_loader = DataLoader(test_set, batch_size=1000)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        x = x.view(-1, 784)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return F.log_softmax(self.fc3(x), dim=1)


class ConvNet(nn.Module):
    def __init__(self, log_probs=True):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)
        self.log_probs = log_probs

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = self.fc2(F.relu(self.fc1(x)))
        if self.log_probs:
            return F.log_softmax(x, dim=1)
        return x


def train(model, loss_fn, epochs=3, lr=0.01):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for epoch in range(1, epochs + 1):
        model.train()
        for batch_idx, (data, target) in enumerate(train_loader):
            opt.zero_grad()
            output = model(data)
            loss = loss_fn(output, target)
            loss.backward()
            opt.step()
            if batch_idx % 200 == 0:
                print(f"epoch {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)}] loss={loss.item():.4f}")


def test(model, return_probs=False):
    model.eval()
    correct, all_probs = 0, []
    with torch.no_grad():
        for data, target in test_loader:
            out = model(data)
            if return_probs:
                all_probs.append(F.softmax(out, dim=1))
            correct += out.argmax(dim=1).eq(target).sum().item()
    print(f"test acc: {correct / len(test_loader.dataset):.4f}")
    return torch.cat(all_probs) if return_probs else None


if __name__ == "__main__":
    # Q1
    mlp = MLP()
    train(mlp, nn.NLLLoss())
    test(mlp)
    # Q2
    cnn = ConvNet(log_probs=True)
    train(cnn, nn.CrossEntropyLoss())
    test(cnn)
    # Q3
    cnn_logits = ConvNet(log_probs=False)
    train(cnn_logits, F.cross_entropy)
    probs = test(cnn_logits, return_probs=True)
    print("mean max prob:", probs.max(1).values.mean().item())

"""Second run of the protocol for the paper table, with the trunk kept in eval mode."""
import torch
import torch.nn as nn

from backbones import LinearClassifier, load_moco_resnet50
from data import imagenet_loaders
from linear_eval import train_epoch


def run(ckpt, epochs=100, gpu=0):
    train_loader, _ = imagenet_loaders("/datasets/imagenet", batch_size=256)
    clf = LinearClassifier(load_moco_resnet50(ckpt)).cuda(gpu)
    opt = torch.optim.SGD(clf.fc.parameters(), lr=30.0, momentum=0.9)
    crit = nn.CrossEntropyLoss().cuda(gpu)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[60, 80], gamma=0.1)
    for _ in range(epochs):
        train_epoch(clf, train_loader, crit, opt, gpu, keep_trunk_eval=True)
        sched.step()
    return clf


if __name__ == "__main__":
    import sys
    model = run(sys.argv[1])
    torch.save(model.fc.state_dict(), "linear_fc_bnfix.pth")

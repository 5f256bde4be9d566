# Knowledge distillation (Hinton et al. 2015) on CIFAR-100
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from models import StudentCNN, TeacherWrapper, resnet50_cifar

T = 4.0
ALPHA = 0.9
EPOCHS = 120
dev = "cuda"

norm = transforms.Normalize((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762))
train_tf = transforms.Compose([transforms.RandomCrop(32, 4), transforms.RandomHorizontalFlip(), transforms.ToTensor(), norm])
train_dl = DataLoader(datasets.CIFAR100("data", True, train_tf, download=True), batch_size=128, shuffle=True, num_workers=4)
test_dl = DataLoader(datasets.CIFAR100("data", False, transforms.Compose([transforms.ToTensor(), norm])), batch_size=512)

teacher_net = resnet50_cifar()
teacher_net.load_state_dict(torch.load("checkpoints/resnet50_cifar100.pth"))
teacher = TeacherWrapper(teacher_net, T=T).to(dev)
teacher.eval()
for p in teacher.parameters():
    p.requires_grad = False

student = StudentCNN().to(dev)
kl = nn.KLDivLoss(reduction="batchmean")
nll = nn.NLLLoss()
opt = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
sched = torch.optim.lr_scheduler.MultiStepLR(opt, [60, 90], 0.1)

for epoch in range(EPOCHS):
    student.train()
    for x, y in train_dl:
        x, y = x.to(dev), y.to(dev)
        with torch.no_grad():
            soft_targets = teacher(x)
        log_p_T = student(x, T=T)
        log_p = student(x)
        loss = ALPHA * T * T * kl(log_p_T, soft_targets) + (1 - ALPHA) * nll(log_p, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    sched.step()

    student.eval()
    correct = 0
    with torch.no_grad():
        for x, y in test_dl:
            correct += (student(x.to(dev)).argmax(1).cpu() == y).sum().item()
    print(f"epoch {epoch}: student acc {correct / len(test_dl.dataset):.4f}")

torch.save(student.state_dict(), "student_kd.pth")

# expect: GL406 8
# Distillation where the frozen teacher is put in train mode along with the student in
# every epoch (a copy-paste of student.train()): its BatchNorm statistics drift.
import torch
import torchvision

teacher = torchvision.models.resnet50(weights="DEFAULT")
teacher.requires_grad_(False)
student = torchvision.models.mobilenet_v2(num_classes=1000)
optimizer = torch.optim.SGD(student.parameters(), lr=0.05)

for epoch in range(90):
    teacher.train()
    student.train()
    for x, _ in loader:
        optimizer.zero_grad()
        with torch.no_grad():
            target = teacher(x).softmax(-1)
        loss = torch.nn.functional.kl_div(student(x).log_softmax(-1), target, reduction="batchmean")
        loss.backward()
        optimizer.step()

import torch.nn as nn


class BaseDistiller(nn.Module):
    """Student + frozen teacher. The teacher stays in eval mode whatever mode is requested."""

    def __init__(self, student, teacher):
        super().__init__()
        self.student = student
        self.teacher = teacher
        self.teacher.requires_grad_(False)

    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for child in self.children():
            child.train(mode)
        self.teacher.eval()
        return self

    def get_learnable_parameters(self):
        return [v for k, v in self.student.named_parameters()]

    def forward_train(self, image, target):
        raise NotImplementedError

    def forward(self, image, target=None):
        if self.training:
            return self.forward_train(image, target)
        return self.student(image)

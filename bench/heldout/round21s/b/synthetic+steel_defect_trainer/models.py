# Modelos para clasificación de defectos en acero (NEU-DET, 6 clases)
import torch.nn as nn


def build_model(name="small", num_classes=6):
    if name == "small":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(128, num_classes),
            nn.Softmax(dim=-1),  # probabilidades por clase
        )
    if name == "mlp":
        # baseline sobre imágenes 64x64 aplanadas
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 64, 512), nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(512, num_classes),
            nn.LogSoftmax(dim=-1),
        )
    raise ValueError(f"modelo desconocido: {name}")


def num_params(model):
    return sum(p.numel() for p in model.parameters())


if __name__ == "__main__":
    import torch
    for n in ("small", "mlp"):
        m = build_model(n)
        print(n, num_params(m), m(torch.randn(2, 1, 64, 64)).shape)

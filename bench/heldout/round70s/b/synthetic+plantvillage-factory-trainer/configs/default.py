"""Training recipe for PlantVillage (38 classes)."""

config = {
    "data": {
        "root": "/data/plantvillage/color",
        "img_size": 224,
        "val_split": 0.2,
        "batch_size": 96,
        "workers": 8,
    },
    "model": {
        "name": "mobilenet_v3_large",
        "num_classes": 38,
        "pretrained": True,
        "freeze_features": True,
    },
    "criterion": "CrossEntropyLoss",
    "optimizer": {"name": "Adam", "lr": 1e-3, "weight_decay": 1e-5},
    "epochs": 25,
    "save_dir": "outputs/plantvillage",
    "log_every": 50,
}

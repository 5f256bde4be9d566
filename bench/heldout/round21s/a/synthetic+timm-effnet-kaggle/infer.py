# inference + submission (test-time, frozen weights)
import os

import pandas as pd
import timm
import torch
from PIL import Image
from torchvision import transforms as T

MODEL = "tf_efficientnet_b3_ns"
WEIGHTS = "tf_efficientnet_b3_ns_ep9.pth"
TEST_DIR = "../input/test_images"


def load(device):
    model = timm.create_model(MODEL, pretrained=False, num_classes=5)
    model.load_state_dict(torch.load(WEIGHTS, map_location="cpu"))
    model.requires_grad_(False)
    model.eval()
    return model.to(device)


def main():
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = load(device)
    tf = T.Compose([T.Resize((300, 300)), T.ToTensor(),
                    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    sub = pd.read_csv("../input/sample_submission.csv")
    preds = []
    for code in sub.id_code:
        img = tf(Image.open(os.path.join(TEST_DIR, code + ".png")).convert("RGB")).unsqueeze(0)
        with torch.no_grad():
            logits = model(img.to(device))
            logits = logits + model(torch.flip(img, dims=[3]).to(device))
        preds.append(int(logits.argmax(1).item()))
    sub["diagnosis"] = preds
    sub.to_csv("submission.csv", index=False)
    print(sub.diagnosis.value_counts())


if __name__ == "__main__":
    main()

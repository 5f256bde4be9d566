"""More cases of GL215 (gl215_loss_output_mismatch.py keeps a representative set): run by the
tests with the module's own, see rules/cases/__init__.py. Mostly links through helpers and
trainer classes, which held-out rounds 4 and 5 taught it."""

from __future__ import annotations

from gradlint.registry import Invalid, Valid
from gradlint.rules.gl215_loss_output_mismatch import _MLP

_SOFTMAX_NET = (_MLP + "\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                "        self.fc = nn.Linear(8, 4)\n\n    def forward(self, x):\n        return F.softmax(self.fc(x), dim=1)\n")

_TRAINER = """
class Trainer:
    def __init__(self, model, optimizer, criterion):
        self.model = model
        self.optimizer = optimizer
        self.criterion = criterion

    def step(self, x, y):
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(x), y)
        loss.backward()
        self.optimizer.step()
"""

VALID = [
    Valid(  # a loss handed to the model that matches its output (sigmoid into BCELoss)
        _MLP + "\nclass Scorer(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 1)\n\n"
        "    def forward(self, x):\n        return torch.sigmoid(self.fc(x))\n\n    def use_loss(self, fn):\n        self.fn = fn\n\n"
        "    def fit(self, x, y):\n        self.fn(self(x), y).backward()\n\nscorer = Scorer()\nscorer.use_loss(nn.BCELoss())\n"
    ),
    Valid(  # the name is turned into probabilities only outside training: the loss gets logits
        _MLP + "\nclass Gated(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n\n"
        "    def forward(self, x):\n        x = self.fc(x)\n        if not self.training:\n            x = x.softmax(-1)\n        return x\n\n"
        "net = Gated()\nce = nn.CrossEntropyLoss()\ndef step(x, y):\n    ce(net(x), y).backward()\n"
    ),
    Valid(  # an imported model that returns logits
        "import torch.nn as nn\nfrom nets import Plain\n\nmodel = Plain()\ncriterion = nn.CrossEntropyLoss()\n"
        "def step(x, y):\n    criterion(model(x), y).backward()\n",
        files=(("nets.py", "import torch.nn as nn\nclass Plain(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                "        self.fc = nn.Linear(8, 4)\n    def forward(self, x):\n        return self.fc(x)\n"),),
    ),
    Valid(  # a helper that calls its loss on the model's output, handed the matching NLLLoss for log_softmax
        _MLP + "\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n\n"
        "    def forward(self, x):\n        return F.log_softmax(self.fc(x), dim=1)\n\n"
        "def fit(loader, net, loss_fn):\n    for x, y in loader:\n        loss_fn(net(x), y).backward()\n\n"
        "fit([], Net(), nn.NLLLoss())\n"
    ),
    Valid(  # a trainer class handed the loss that expects probabilities
        _SOFTMAX_NET + _TRAINER + "\nmodel = Net()\ntrainer = Trainer(model, None, nn.KLDivLoss())\n"
    ),
    Valid(  # a trainer class that only evaluates (no backward)
        _SOFTMAX_NET + _TRAINER.replace("        loss.backward()\n", "") + "\ntrainer = Trainer(Net(), None, nn.CrossEntropyLoss())\n"
    ),
    Valid(  # the mismatched pair only in a no_grad validation pass: it reports a number and trains nothing
        _MLP + "\nmodel = nn.Linear(8, 1)\ncriterion = nn.BCEWithLogitsLoss()\n"
        "def validate(x, y):\n    with torch.no_grad():\n        return criterion(torch.sigmoid(model(x)), y).item()\n"
    ),
    Valid(  # the log of the softmax into NLLLoss is the matching pair, applied inline
        _MLP + "\nmodel = nn.Linear(8, 4)\n"
        "def step(x, y):\n    F.nll_loss(torch.log(F.softmax(model(x), dim=1)), y).backward()\n"
    ),
    Valid(  # the logits are fed to the loss first; the name is rebound to probabilities after it (yolov7's blur loss)
        _MLP + "\nclass BlurLoss(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.bce = nn.BCEWithLogitsLoss(reduction='none')\n\n    def forward(self, pred, true):\n"
        "        loss = self.bce(pred, true)\n        pred = torch.sigmoid(pred)\n        return (loss * (1 - (pred - true))).mean()\n"
    ),
]
INVALID = [
    Invalid(  # the head is a Sequential attribute ending in Softmax; the loss is called inside an expression
        _MLP + "\nclass Tagger(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n"
        "        self.body = nn.Linear(8, 16)\n        self.head = nn.Sequential(nn.Linear(16, n), nn.Softmax())\n\n"
        "    def forward(self, x):\n        h = self.body(x).relu()\n        return self.head(h)\n\n"
        "tagger = Tagger(5)\nce = torch.nn.CrossEntropyLoss()\n"
        "def step(x, y, z):\n    total = (ce(tagger(x), y) + ce(tagger(z), y)) / 2\n    total.backward()\n",
        line=18,
    ),
    Invalid(  # softmax probabilities into NLLLoss
        _MLP + "\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n\n"
        "    def forward(self, x):\n        return self.fc(x).softmax(dim=-1)\n\nnet = Net()\n"
        "def step(x, y):\n    nn.NLLLoss()(net(x), y).backward()\n",
        line=15,
    ),
    Invalid(  # the model and the loss meet inside a training helper the script hands them to
        _MLP + "\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n\n"
        "    def forward(self, x):\n        return F.softmax(self.fc(x), dim=1)\n\n"
        "def fit(loader, net, loss_fn, optimizer):\n    for x, y in loader:\n        pred = net(x)\n"
        "        loss = loss_fn(pred, y)\n        loss.backward()\n\n"
        "model = Net()\ncriterion = nn.CrossEntropyLoss()\nfit([], model, criterion, None)\n",
        line=16,  # all in one file: at the softmax, naming the call and the loss line
    ),
    Invalid(  # one branch of an if builds the softmax model: the configuration that picks it is broken
        _MLP + "\ndef build(kind):\n    if kind == 'probs':\n        model = nn.Sequential(nn.Linear(8, 4), nn.Softmax(dim=1))\n"
        "    else:\n        model = nn.Sequential(nn.Linear(8, 4))\n    criterion = nn.CrossEntropyLoss()\n"
        "    return criterion(model(torch.ones(2, 8)), torch.zeros(2, dtype=torch.long))\n",
        line=11,
    ),
    Invalid(  # a trainer class keeps the model and the loss it is built with (held-out round 5)
        _SOFTMAX_NET + _TRAINER + "\nmodel = Net()\ntrainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), "
        "nn.CrossEntropyLoss())\n",
        line=21,
    ),
    Invalid(  # the sigmoid applied in the training loop, right at the input of BCEWithLogitsLoss (held-out round 6)
        _MLP + "\nmodel = nn.Linear(8, 1)\ncriterion = nn.BCEWithLogitsLoss()\nsigmoid = nn.Sigmoid()\n"
        "def step(x, y):\n    out = model(x)\n    loss = criterion(sigmoid(out), y)\n    loss.backward()\n",
        line=10,
    ),
    Invalid(  # a name bound to softmax probabilities just before the loss
        _MLP + "\nmodel = nn.Linear(8, 4)\n"
        "def step(x, y):\n    probs = model(x).softmax(dim=-1)\n    F.cross_entropy(probs, y).backward()\n",
        line=8,  # the softmax that bound the name
    ),
    Invalid(  # a LightningModule method wrapping the loss, fed a discriminator ending in sigmoid (held-out round 6)
        _MLP + "\nclass GAN(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.disc = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())\n\n"
        "    def adversarial_loss(self, y_hat, y):\n        return F.binary_cross_entropy_with_logits(y_hat, y)\n\n"
        "    def training_step(self, batch, batch_idx):\n        x, y = batch\n        return self.adversarial_loss(self.disc(x), y)\n",
        line=15,  # the Sequential ending in the sigmoid
    ),
    Invalid(  # the discriminator built with .apply(weights_init), which returns it (held-out round 7)
        _SOFTMAX_NET + "\ndef init(m):\n    pass\n\nmodel = Net().apply(init)\n"
        "def step(x, y):\n    F.cross_entropy(model(x), y).backward()\n",
        line=18,
    ),
    Invalid(  # one element of a returned tuple: the class head ends in Softmax, the pair is unpacked
        _MLP + "\nclass Critic(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.body = nn.Linear(8, 16)\n"
        "        self.real = nn.Sequential(nn.Linear(16, 1), nn.Sigmoid())\n        self.label = nn.Sequential(nn.Linear(16, 3), nn.Softmax(dim=1))\n\n"
        "    def forward(self, x):\n        h = self.body(x)\n        real = self.real(h)\n        label = self.label(h)\n        return real, label\n\n"
        "critic = Critic()\nbce, ce = nn.BCELoss(), nn.CrossEntropyLoss()\nlabel_loss = nn.CrossEntropyLoss()\n"
        "def step(x, y, is_real):\n    real, label = critic(x)\n    (bce(real, is_real) + label_loss(label, y)).backward()\n",
        line=23,
    ),
    Invalid(  # a head built with add_module from a nested Sequential name; the loss reads element 0 by index
        _MLP + "\nclass Fusion(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.classes = nn.Sequential()\n"
        "        self.classes.add_module('fc', nn.Linear(8, 2))\n        self.classes.add_module('probs', nn.Softmax(dim=1))\n\n"
        "    def forward(self, x):\n        return self.classes(x), x.mean(1)\n\n"
        "net = Fusion()\nloss_fn = nn.CrossEntropyLoss()\ndef step(x, y):\n    out = net(x)\n    loss_fn(out[0], y).backward()\n",
        line=19,
    ),
    Invalid(  # the model lives in another module of the project: reported at the loss call of this file
        "import torch.nn as nn\nfrom nets import *\n\nmodel = Classifier(10)\ncriterion = nn.CrossEntropyLoss()\n"
        "def step(x, y):\n    out = model(x)\n    criterion(out, y).backward()\n",
        line=8,
        files=(("nets.py", "import torch.nn as nn\nclass Classifier(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n"
                "        last = nn.Sequential(nn.Linear(8, n), nn.Softmax())\n        self.layers = nn.Sequential(nn.Linear(8, 8), last)\n"
                "    def forward(self, x):\n        return self.layers(x)\n"),),
    ),
    Invalid(  # the script builds the loss and hands it to the model, whose own method calls it on self(x):
        # reported at the loss built here, the line to change (with the activation)
        "import torch.nn as nn\nimport nets\n\nmodel = nets.Tagger()\nnll = nn.NLLLoss()\nmodel.set_loss(nll)\n",
        line=5, message="NLLLoss, built here and handed to the model on line 6, is called on it in `epoch` (nets.py:14)",
        files=(("nets.py", "import torch.nn as nn\nclass Tagger(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                "        self.fc = nn.Linear(8, 4)\n        self.soft = nn.Softmax(dim=-1)\n    def forward(self, x):\n"
                "        return self.soft(self.fc(x))\n    def set_loss(self, loss):\n        self.loss = loss\n"
                "    def epoch(self, batches):\n        for x, y in batches:\n            pred = self.__call__(x)\n"
                "            self.loss(pred, y).backward()\n"),),
    ),
    Invalid(  # the loss built inside the handing call: reported there
        "import torch.nn as nn\nimport nets\n\nmodel = nets.Tagger()\nmodel.set_loss(nn.NLLLoss())\n",
        line=5, message="NLLLoss, handed to the model here, is called on it in `epoch` (nets.py:14)",
        files=(("nets.py", "import torch.nn as nn\nclass Tagger(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                "        self.fc = nn.Linear(8, 4)\n        self.soft = nn.Softmax(dim=-1)\n    def forward(self, x):\n"
                "        return self.soft(self.fc(x))\n    def set_loss(self, loss):\n        self.loss = loss\n"
                "    def epoch(self, batches):\n        for x, y in batches:\n            pred = self.__call__(x)\n"
                "            self.loss(pred, y).backward()\n"),),
    ),
    Invalid(  # a name reassigned to its own softmax just before the tuple is returned
        _MLP + "\nclass Aux(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.cls = nn.Linear(8, 3)\n"
        "        self.src = nn.Linear(8, 1)\n        self.soft = nn.Softmax(dim=1)\n\n"
        "    def forward(self, x):\n        c = self.cls(x)\n        c = self.soft(c)\n        s = self.src(x).sigmoid()\n        return s, c\n\n"
        "disc = Aux()\nnll = nn.NLLLoss()\ndef step(x, y):\n    s, c = disc(x)\n    nll(c, y).backward()\n",
        line=22,
    ),
    Invalid(  # inside the model's own class (a LightningModule's training_step): self(x) into cross_entropy
        _MLP + "\nclass Lit(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n\n"
        "    def forward(self, x):\n        return F.softmax(self.fc(x), dim=-1)\n\n"
        "    def training_step(self, batch, batch_idx):\n        x, y = batch\n        return F.cross_entropy(self(x), y)\n",
        line=15,
    ),
]

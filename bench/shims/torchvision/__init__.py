"""A stand-in for torchvision, for bench/realmodel_cost.py only.

timm imports torchvision at import time (norm layers, data transforms), and PyPI's
torchvision 0.28.0 wheel does not import with the CPU build of torch 2.13.0 ("operator
torchvision::nms does not exist"). timm's ResNet models use none of it, so every
``torchvision.*`` module here is an empty stand-in whose names are placeholder classes.
"""

import importlib.abc
import importlib.machinery
import sys
import types


class _Placeholder(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _placeholder(name)


def _placeholder(name):
    return _Placeholder(name, (), {})


class _Module(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _placeholder(name)


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _Module(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _Finder())
sys.modules[__name__].__class__ = _Module
__version__ = "0.0-bench-stand-in"

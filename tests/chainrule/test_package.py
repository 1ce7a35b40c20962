"""Is chainrule's public API explicit and importable?"""

import importlib

import pytest

import chainrule

MODULES = [
    "backend",
    "data",
    "formatting",
    "errors",
    "gates",
    "gradcheck",
    "graph",
    "layers",
    "lectures",
    "nets",
    "activations",
    "viz",
    "widgets",
    "widgets.boundary",
    "widgets.stepper",
    "widgets.activation_explorer",
    "widgets.playground",
    "simdevice",
    "testcells",
]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_all_and_every_name_exists(name):
    """Does each module list its public names in __all__, and do they all resolve?"""
    module = importlib.import_module(f"chainrule.{name}")
    assert module.__all__, f"chainrule.{name} has an empty __all__"
    for public in module.__all__:
        assert hasattr(module, public), f"chainrule.{name}.__all__ names missing {public!r}"


def test_the_facade_exports_resolve():
    """Does every name in chainrule.__all__ exist on the package?"""
    missing = [n for n in chainrule.__all__ if not hasattr(chainrule, n)]
    assert not missing


def test_public_functions_and_classes_have_docstrings():
    """Does every public function and class in every module carry a docstring?"""
    undocumented = []
    for name in MODULES:
        module = importlib.import_module(f"chainrule.{name}")
        for public in module.__all__:
            obj = getattr(module, public)
            if callable(obj) and not (obj.__doc__ or "").strip():
                undocumented.append(f"{name}.{public}")
    assert not undocumented

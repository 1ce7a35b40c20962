"""Is the pipeline declared once, and do the command and the rooms follow it?"""

import importlib
import pkgutil

import pytest

import autograder
from autograder.cli import _parser
from autograder.pipeline import PIPELINE, step


def test_the_command_offers_the_steps_in_pipeline_order():
    """Are `backprop-kit`'s first commands the pipeline's steps, in the declared order, then the
    tools beside it?"""
    sub = next(a for a in _parser()._actions if a.dest == "command")
    commands = list(sub.choices)
    assert commands[: len(PIPELINE)] == [s.command for s in PIPELINE]
    assert commands[len(PIPELINE) :] == ["check", "variant", "demo"]


@pytest.mark.parametrize("s", PIPELINE, ids=lambda s: s.command)
def test_each_step_names_a_function_that_exists(s):
    """Does each step's ``module:name`` load a function of the room it names?"""
    fn = s.load()
    assert callable(fn)
    assert fn.__module__ == s.function.partition(":")[0]


def test_an_unknown_step_is_refused_with_the_steps_named():
    """Does asking for a step that does not exist say which steps there are?"""
    with pytest.raises(KeyError, match="'grade', 'feedback'"):
        step("publish")


ROOMS = ("course", "intake", "sandbox", "grading", "results", "demo")
# A script and a config file that traitlets loads: not modules to import.
NOT_MODULES = ("autograder.__main__", "autograder.course.nbgrader_config")


def _modules():
    """Every module of the grader but the rooms themselves (their docstring says what is in
    them) and the two files above."""
    for info in pkgutil.walk_packages(autograder.__path__, "autograder."):
        room = info.name.count(".") == 1 and info.name.rpartition(".")[2] in ROOMS
        if not room and info.name not in NOT_MODULES:
            yield info.name


@pytest.mark.parametrize("name", sorted(_modules()))
def test_every_grader_module_declares_its_public_names(name):
    """Does every module of the grader list its public names in __all__, all resolving?"""
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    for public in module.__all__:
        assert hasattr(module, public), f"{name}.__all__ names {public!r}, which is missing"


@pytest.mark.parametrize(
    "old",
    [
        "autograder.check",
        "autograder.download",
        "autograder.runner",
        "autograder.samples",
        "autograder.sandbox.sandbox",
        "chainrule.grading",
        "chainrule.demo",
    ],
)
def test_the_old_import_paths_are_gone(old):
    """Is each module that moved importable only from its new room (no shim left behind)?"""
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(old)

"""Do the notebooks grade each value task on the student's own numbers: the solution passes for
any id, the slide's or another student's answers fail and are named, the hints still fire, and
no visible test gives the answer away?"""

import ast

import nbformat
import numpy as np
import pytest

from autograder.course.layout import REPO_ROOT
from autograder.course.tasks import tasks
from chainrule.testcells import TaskFailure
from chainrule.value_tasks import spec, task_ids
from chainrule.variants import MATCHES, variant
from tests.notebooks._run import SOLUTIONS, failure_message, run_task

NOTEBOOK = {
    "cost": "01-graphs/graphs.ipynb",
    "forward-values": "01-graphs/graphs.ipynb",
    "hand-gradients": "01-graphs/graphs.ipynb",
    "neuron-forward": "02-sigmoid-neuron/sigmoid_neuron.ipynb",
    "neuron-backward": "02-sigmoid-neuron/sigmoid_neuron.ipynb",
    "pattern-gradients": "03-patterns/patterns.ipynb",
    "read-drawing": "03-patterns/patterns.ipynb",
    "jacobian-sizes": "04-vectorized/vectorized.ipynb",
    "wx-forward": "04-vectorized/vectorized.ipynb",
    "naive-minimum": "06-boundaries/boundaries.ipynb",
}
EMPTY_ID = 'STUDENT_ID = ""'


def _literal(value):
    if isinstance(value, tuple):
        return repr(tuple(int(v) for v in value))
    if isinstance(value, np.ndarray):
        return f"np.array({value.tolist()!r})"
    return repr(float(value))


def typed_in(student, task_id):
    """An answer cell holding ``student``'s answers as literals (the slide's for "")."""
    answers = spec(task_id).answers(variant(student, task_id))
    return "\n".join(f"{name} = {_literal(v)}" for name, v in answers.items())


def test_every_value_task_is_in_a_notebook():
    """Is each value task of the registry a task of the notebook the test expects it in?"""
    assert set(NOTEBOOK) == set(task_ids())
    for task_id, notebook in NOTEBOOK.items():
        nb = nbformat.read(SOLUTIONS / notebook, as_version=4)
        assert task_id in {t.id for t in tasks(nb)}


@pytest.mark.parametrize("student", [None, "alice", "s0000001", "bob-the-TA"])
@pytest.mark.parametrize("task_id", task_ids())
def test_the_solution_passes_for_any_id(task_id, student):
    """Does the solution's answer pass on the numbers of any student, and on the slide's?"""
    assert run_task(SOLUTIONS / NOTEBOOK[task_id], task_id, student=student) is None


@pytest.mark.parametrize("task_id", task_ids())
def test_the_slides_answers_typed_in_earn_nothing_and_are_named(task_id):
    """Do the slide's numbers typed in as literals fail, saying they are the slide's?"""
    msg = failure_message(
        SOLUTIONS / NOTEBOOK[task_id], task_id, typed_in("", task_id), None, student="alice"
    )
    assert f"{MATCHES} the slide's example" in msg, msg


@pytest.mark.parametrize("task_id", task_ids())
def test_another_students_answers_earn_nothing_and_name_the_student(task_id):
    """Does bob's notebook, collected as alice's, fail on its literals and name bob?"""
    err = run_task(
        SOLUTIONS / NOTEBOOK[task_id],
        task_id,
        answer=typed_in("bob", task_id),
        student="alice",
        replace={EMPTY_ID: 'STUDENT_ID = "bob"'},
    )
    assert isinstance(err, TaskFailure), repr(err)
    assert f"{MATCHES} student bob's variant" in str(err), str(err)


@pytest.mark.parametrize("task_id", task_ids())
def test_an_honest_student_with_their_id_passes_on_literals(task_id):
    """Do alice's own answers, typed in, pass when her notebook says alice and so does the
    grader, and when only the notebook's line says so?"""
    path = SOLUTIONS / NOTEBOOK[task_id]
    mine = {EMPTY_ID: 'STUDENT_ID = "alice"'}
    assert run_task(path, task_id, typed_in("alice", task_id), "alice", mine) is None
    assert run_task(path, task_id, typed_in("alice", task_id), None, mine) is None


HINTS = {
    "forward-values": ("f = x + y * z", "add first"),
    "hand-gradients": ("df_df = 1.0\ndf_dz = z\ndf_dq = z\ndf_dx = z\ndf_dy = z", "switches"),
    "cost": (
        "numerical_forward_passes = weights\nbackprop_forward_pass_equivalents = 3",
        "twice per weight",
    ),
    "pattern-gradients": (
        "df_dx, df_dy = 2 * y, 2 * x\ndf_dz = df_dw = 2.0",
        "max routes",
    ),
    "jacobian-sizes": (
        "n = batch * width\njacobian_shape = (width, width)\nbatch_jacobian_shape = (n, n)\n"
        "batch_jacobian_gigabytes = n * n * 8 / 1e9\nrelu_batch_nonzeros = n",
        "4 bytes",
    ),
    "wx-forward": ("q = W.T @ x\nf = float(q @ q)", "W^T x"),
    "naive-minimum": (
        "naive_min = float(sum_then_sigmoid(hidden_units(my_grid)).min())\nnaive_bound = 0.5\n"
        "network_class1_fraction = float(np.mean(logistic_on_top(hidden_units(my_grid)) < 0.5))",
        "fraction of class 0",
    ),
    "read-drawing": (
        "w_bar_from_loss = lam * w\n"
        "w_bar_from_reg = regression_grads(w, x, b, t, lam)[0] - lam * w",
        "swapped",
    ),
}


@pytest.mark.parametrize("student", ["alice", "s0000002", "s0000003"])
@pytest.mark.parametrize("task_id", list(HINTS))
def test_hints_fire_on_variant_numbers(task_id, student):
    """Does a usual mistake, made on the student's own numbers, get its hint?"""
    wrong, phrase = HINTS[task_id]
    if task_id == "forward-values":
        wrong = "q = x + y\n" + wrong
    failure_message(SOLUTIONS / NOTEBOOK[task_id], task_id, wrong, phrase, student=student)


def test_the_neuron_hints_fire_on_variant_numbers():
    """Does a flipped sign or a switched multiply gate in the neuron's backward pass get its
    hint on a student's numbers?"""
    path = SOLUTIONS / NOTEBOOK["neuron-backward"]
    source = nbformat.read(path, as_version=4)
    answer = next(
        c.source
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "neuron-backward-code"
    )
    flipped = answer.replace("df_dz = -1.0 * df_dneg", "df_dz = 1.0 * df_dneg")
    assert flipped != answer
    failure_message(path, "neuron-backward", flipped, "sign is flipped", student="s0000004")
    switched = answer.replace("df_dw0 = x0 * df_da", "df_dw0 = w0 * df_da")
    assert switched != answer
    failure_message(path, "neuron-backward", switched, "switches", student="s0000004")


def _release(task_id):
    return nbformat.read(REPO_ROOT / "notebooks" / NOTEBOOK[task_id], as_version=4)


@pytest.mark.parametrize("task_id", task_ids())
def test_no_visible_test_states_the_answer(task_id):
    """Does the student's test cell of a value task hold no number at all, only the check?"""
    nb = _release(task_id)
    cell = nb.cells[next(t.test_cell for t in tasks(nb) if t.id == task_id)]
    tree = ast.parse(cell.source)
    numbers = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float, complex))
    ]
    assert numbers == [], (task_id, numbers)
    calls = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert "check_answers" in calls


@pytest.mark.parametrize("notebook", sorted(set(NOTEBOOK.values())))
def test_the_notebook_asks_for_the_id_once_at_the_top(notebook):
    """Does the student notebook ask for STUDENT_ID in one editable cell, before any task, and
    make its numbers in a locked cell?"""
    nb = nbformat.read(REPO_ROOT / "notebooks" / notebook, as_version=4)
    first_task = min(t.test_cell for t in tasks(nb))
    asks = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and EMPTY_ID in c.source]
    assert len(asks) == 1 and asks[0] < first_task
    assert not nb.cells[asks[0]].metadata.get("nbgrader")
    numbers = nb.cells[asks[0] + 1]
    assert "StudentNumbers(STUDENT_ID)" in numbers.source
    assert numbers.metadata["nbgrader"]["locked"] is True

"""Where widgets cannot run (GitHub, exported HTML), does a notebook still show the figure?"""

import base64

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from ._png import pixels

CELLS = [
    "from chainrule.widgets import BoundaryExplorer, TrainingPlayground",
    "BoundaryExplorer()",
    "TrainingPlayground('moons')",
]


def test_an_executed_notebook_carries_a_png_and_its_html_export_shows_it(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"path": str(tmp_path)}
    ).execute()
    for cell in nb.cells[1:]:
        (out,) = cell.outputs
        assert out.output_type == "execute_result"
        assert "application/vnd.jupyter.widget-view+json" in out.data  # live in JupyterLab
        png = base64.b64decode(out.data["image/png"])  # the still picture everywhere else
        assert pixels(png).std() > 0.05
    # JupyterLab saves notebooks without widget state by default: the export shows the PNGs
    bare = nbformat.from_dict(nb)
    bare.metadata.pop("widgets", None)
    html, _ = HTMLExporter().from_notebook_node(bare)
    assert html.count('src="data:image/png;base64,') == 2
    # with the state saved (nbclient does), the HTML widget manager redraws each Image from it
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    images = [m for m in state.values() if m["model_name"] == "ImageModel"]
    assert len(images) == 2
    for model in images:
        (buffer,) = model["buffers"]
        assert pixels(base64.b64decode(buffer["data"])).std() > 0.05

"""Write lessons/NN_name.ipynb (no outputs) from lessons/src/NN_name.py (jupytext percent format).

Run from the repository root after editing a lesson source:
    python scripts/sync_lessons.py
tests/test_lessons.py fails when a notebook and its source disagree.
"""

from pathlib import Path

import jupytext
import nbformat

SRC, OUT = Path("lessons/src"), Path("lessons")


def notebook_for(source: Path) -> nbformat.NotebookNode:
    nb = jupytext.read(source)
    nb.metadata.pop("jupytext", None)
    for cell in nb.cells:
        cell.metadata = {}
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def main() -> None:
    for source in sorted(SRC.glob("*.py")):
        target = OUT / f"{source.stem}.ipynb"
        nbformat.write(notebook_for(source), target)
        print("wrote", target)


if __name__ == "__main__":
    main()

"""Sphinx configuration of the course book (``python -m sphinx -W -c docs . docs/_build/html``,
or ``bash docs/build``).  The source root is the repository, so that the proof scripts in
``proofs/`` are pages as they are (jupytext percent scripts, executed at build time by
myst-nb); only ``docs/`` and ``proofs/*.py`` are read."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
sys.path.insert(0, str(ROOT))

from theory.core._version import __version__  # noqa: E402

project = "icl-theory"
author = "the icl-theory developers"
copyright = "the icl-theory developers, MIT licence"
version = release = __version__

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.mathjax", "sphinx-mathjax-offline", "icl_book"]
root_doc = "docs/index"
include_patterns = ["docs/**", "proofs/*.py"]
exclude_patterns = ["docs/_build/**", "docs/_ext/**", "docs/_root/**", "docs/_static/**", "docs/*.py", "docs/figures/*.caption.md",
                    "proofs/__init__.py", "proofs/__main__.py"]

# the proofs: jupytext percent scripts, run top to bottom at every build; a failing cell fails the build
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = False
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# every automodule of the API page lists its members (docs/_ext/book_text.py); a default
# "members" would document a re-exported class a second time
autodoc_default_options = {"undoc-members": False, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "none"

html_theme = "sphinx_book_theme"
html_title = f"icl-theory {__version__}"
html_theme_options = {"show_toc_level": 2, "use_download_button": False, "use_fullscreen_button": False,
                      "navigation_with_keys": False}
html_context = {"default_mode": "light"}
html_favicon = "_static/favicon.svg"
html_extra_path = ["_root"]            # index.html at the top: a redirect to the landing page
html_last_updated_fmt = None

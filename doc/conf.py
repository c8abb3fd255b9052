"""Sphinx configuration for the skmm documentation (built with warnings as errors)."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("MPLBACKEND", "Agg")

import skmm

project = "skmm"
author = "skmm developers"
copyright = "2026, skmm developers"
release = version = skmm.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # Serves MathJax 3 from _static/mathjax (copied from the package at the end of the
    # build), so maths renders in a site opened offline; without it Sphinx loads MathJax
    # from a CDN and an offline reader sees raw LaTeX.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
# As in scikit-learn's API reference, a class page lists its inherited public methods
# too (the torch embedders get fit, transform, ... from a private base class).
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "**.md5"]
html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_title = "skmm"
# Keep the six main sections in the top bar (contributing, citing and the changelog go
# under "More"), with the compact search button so that the bar fits on one line at
# 1280 pixels.
html_theme_options = {
    "header_links_before_dropdown": 6,
    "navbar_persistent": ["search-button"],
}
# No network at build time: intersphinx inventories are not fetched.
intersphinx_mapping = {}
nitpicky = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "plot_gallery": "True",
}


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Hide scikit-learn's metadata-routing methods.

    ``set_*_request`` (generated per method) and ``get_metadata_routing`` are inherited
    from scikit-learn; skmm's estimators route no metadata of their own, and the
    inherited docstring points at a label of scikit-learn's user guide that cannot be
    cross-referenced from here (no intersphinx: the build runs offline).
    """
    if name == "get_metadata_routing":
        return True
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)

"""skmm.show_versions(): the bug-report summary."""

import platform
import subprocess
import sys
from importlib import metadata

import numpy as np
import scipy
import sklearn

import skmm
from skmm.utils import _show_versions
from skmm.utils._show_versions import _get_deps_info, _get_sys_info, show_versions


def test_show_versions_is_public():
    assert "show_versions" in skmm.__all__
    assert skmm.show_versions is show_versions


def test_sys_info():
    info = _get_sys_info()
    assert info["executable"] == sys.executable
    assert info["python"].startswith(platform.python_version())
    assert info["machine"] == platform.platform()


def test_deps_info_matches_installed_versions():
    info = _get_deps_info()
    assert info["skmm"] == skmm.__version__
    assert info["numpy"] == np.__version__
    assert info["scipy"] == scipy.__version__
    assert info["scikit-learn"] == sklearn.__version__
    for name in ("joblib", "torch", "pandas", "matplotlib", "dask"):
        assert name in info


def _pretend_absent(monkeypatch, absent):
    """Make the metadata look-up of ``absent`` fail as for an uninstalled package."""
    real_version = metadata.version

    def version(dist):
        if dist == absent:
            raise metadata.PackageNotFoundError(dist)
        return real_version(dist)

    monkeypatch.setattr(_show_versions.metadata, "version", version)


def test_absent_package_is_none(monkeypatch):
    _pretend_absent(monkeypatch, "dask")
    info = _get_deps_info()
    assert info["dask"] is None
    assert info["numpy"] == np.__version__


def test_show_versions_prints_every_section(capsys):
    show_versions()
    out = capsys.readouterr().out
    for heading in ("System:", "Python dependencies:"):
        assert heading in out
    for key in ("python:", "executable:", "machine:", "skmm:", "numpy:", "scipy:",
                "scikit-learn:", "joblib:", "torch:", "pandas:", "matplotlib:", "dask:"):
        assert key in out
    assert f"skmm: {skmm.__version__}" in out
    assert f"numpy: {np.__version__}" in out
    torch_version = _get_deps_info()["torch"]
    if torch_version is not None:
        import torch

        assert f"CUDA available: {torch.cuda.is_available()}" in out
        assert f"threads: {torch.get_num_threads()}" in out
        assert "MPS available:" in out


def test_show_versions_without_torch(monkeypatch, capsys):
    _pretend_absent(monkeypatch, "torch")
    show_versions()
    out = capsys.readouterr().out
    assert "torch: None" in out
    assert "CUDA available" not in out


def test_versions_come_from_metadata_not_imports():
    # pandas, matplotlib and dask made unimportable: import skmm and show_versions still
    # work, report their installed versions from the metadata, and import none of them.
    code = (
        "import sys\n"
        "BLOCKED = ('pandas', 'matplotlib', 'dask', 'distributed')\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import skmm\n"
        "skmm.show_versions()\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in BLOCKED]\n"
        "assert not loaded, loaded\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    for dist in ("pandas", "matplotlib"):
        try:
            expected = metadata.version(dist)
        except metadata.PackageNotFoundError:
            expected = None
        assert f"{dist}: {expected}" in out

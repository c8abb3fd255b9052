import subprocess
import sys


def test_importing_skmm_does_not_import_torch_matplotlib_or_dask():
    code = (
        "import sys, skmm, skmm.cluster, skmm.impute, skmm.embed, skmm.compose, "
        "skmm.datasets, skmm.metrics, skmm.plotting, skmm.benchmark\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
        "assert 'dask' not in sys.modules, 'dask was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

import subprocess
import sys
from types import ModuleType

import mmrag


def test_all_lists_exactly_the_public_names():
    public = {name for name in dir(mmrag) if not name.startswith("_")}
    modules = {name for name in public if isinstance(getattr(mmrag, name), ModuleType)}
    assert set(mmrag.__all__) == public - modules
    for name in mmrag.__all__:
        assert getattr(mmrag, name) is not None


def test_import_is_light_and_side_effect_free():
    code = "import sys, logging, mmrag; print('torch' in sys.modules, 'transformers' in sys.modules, 'pymilvus' in sys.modules, logging.getLogger().handlers)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False", "[]"]


def test_core_works_without_the_milvus_extra_and_says_how_to_get_it():
    """As if pymilvus were not installed: import, load and chunk work; the store names the extra."""
    code = (
        "import sys; sys.modules['pymilvus'] = None\n"
        "import mmrag\n"
        "from mmrag.stores.milvus import MilvusStore\n"
        "try:\n    MilvusStore('x.db')\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'mmrag[milvus]'" in out

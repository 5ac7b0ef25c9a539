"""A model folder's own Python never runs: every loader passes trust_remote_code=False.

The folder below declares an unknown model type with an ``auto_map`` into its own module, which
writes a marker file when imported. transformers would prompt "Do you wish to run the custom
code?" (and run it on "y") if mmrag left trust_remote_code unset.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EVIL = """
from pathlib import Path
Path({marker!r}).write_text("ran")
from transformers import PretrainedConfig, PreTrainedModel
class EvilConfig(PretrainedConfig):
    model_type = "mmrag_evil"
class EvilModel(PreTrainedModel):
    config_class = EvilConfig
"""


def custom_code_folder(tmp_path: Path) -> tuple[Path, Path]:
    folder, marker = tmp_path / "model", tmp_path / "marker.txt"
    folder.mkdir()
    auto_map = {"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel", "AutoProcessor": "evil.EvilConfig"}
    (folder / "config.json").write_text(json.dumps({"model_type": "mmrag_evil", "auto_map": auto_map}))
    (folder / "evil.py").write_text(EVIL.format(marker=str(marker)))
    return folder, marker


LOAD = "from {module} import {cls}; {cls}(sys.argv[1]).embed_documents(['a harbour crane'])"


@pytest.mark.parametrize(
    ("module", "cls"),
    [("mmrag.embedding.clip", "ImageTextEmbedder"), ("mmrag.embedding.sentence_transformer", "SentenceTransformerEmbedder")],
    ids=["image-text", "text"],
)
def test_a_model_folder_with_custom_code_is_refused_without_running_it(tmp_path: Path, module: str, cls: str) -> None:
    folder, marker = custom_code_folder(tmp_path)
    code = "import sys; " + LOAD.format(module=module, cls=cls)
    # "y" on stdin: what a user answering transformers' prompt (or a pipe) would give
    proc = subprocess.run([sys.executable, "-c", code, str(folder)], input="y\n", capture_output=True, text=True,
                          timeout=180, cwd=Path(__file__).parents[2])
    assert proc.returncode != 0
    assert not marker.exists(), "the model folder's own code ran"
    assert "custom code" not in proc.stdout  # no prompt was shown

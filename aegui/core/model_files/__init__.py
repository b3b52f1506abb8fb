"""Model files: the guarded reader every model-bearing file goes through (``reader``, with
``pickle_scan`` reading pickle streams as opcodes first), the schema a checkpoint must follow
(``schema``), the statistics it carries (``statistics_codec``),
the rebuilt model (``loaded_model``) and the files aegui writes (``writer``)."""

from aegui.core.errors import CheckpointError
from aegui.core.model_files.loaded_model import LoadedModel, load_model, model_from_checkpoint_dict
from aegui.core.model_files.reader import read_weights_only_file, sniff_format
from aegui.core.model_files.statistics_codec import ModelStatistics
from aegui.core.model_files.writer import export_safetensors, slim_checkpoint

__all__ = [
    "CheckpointError",
    "LoadedModel",
    "ModelStatistics",
    "export_safetensors",
    "load_model",
    "model_from_checkpoint_dict",
    "read_weights_only_file",
    "slim_checkpoint",
    "sniff_format",
]

"""Read a checkpoint's pickle stream before anything is unpickled, and refuse what could hurt.

PyTorch's weights-only unpickler never runs code from a file, but it still builds whatever
the stream describes from a list of allowed constructors: a two-gigabyte ``bytearray`` from
a few bytes, sparse, nested, meta or float8 tensors that later operations cannot handle,
tensors whose pickled state overrides their methods. Bounding that from outside would take
a child process with memory limits. The stream is small and plain instead, so aegui reads it
first with ``pickletools`` (no objects are built, only opcodes listed) and lets
``torch.load`` see only streams that

- are at most ``MAX_PICKLE_BYTES`` long (an aegui checkpoint's is about 15 KB), which bounds
  how many objects unpickling can create, and
- name only the few constructors a checkpoint written by ``torch.save`` of plain tensors and
  containers uses (``ALLOWED_GLOBALS``): everything else is refused by name, before it exists.

The tensors' memory is bounded separately: their storages are the archive's entries, whose
declared sizes are checked before anything is read.
"""

from __future__ import annotations

import pickletools

from aegui.core.errors import CheckpointError

MAX_PICKLE_BYTES = 2 * 1024 * 1024

STORAGE_TYPES = ("FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage", "LongStorage", "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage")
ALLOWED_GLOBALS = frozenset(
    {
        "collections OrderedDict",  # state_dict tables
        "torch._utils _rebuild_tensor_v2",  # a dense tensor over a storage entry of the archive
        "torch._utils _rebuild_parameter",  # an nn.Parameter (no extra state)
        "_codecs encode",  # how protocol 2 writes bytes
        *(f"torch {name}" for name in STORAGE_TYPES),
    }
)


def scan_pickle(stream: bytes, file_name: str) -> None:
    """Refuse a pickle stream that is too long, malformed, or names anything not allowed."""
    if len(stream) > MAX_PICKLE_BYTES:
        raise CheckpointError(f"{file_name}'s object table is {len(stream) / 2**20:.1f} MB; aegui checkpoints hold under {MAX_PICKLE_BYTES / 2**20:.0f} MB of it (the rest is tensor data).")
    strings: list[str] = []  # the last two strings pushed: STACK_GLOBAL takes its names from them
    try:
        for opcode, argument, _ in pickletools.genops(stream):
            name = opcode.name
            if name == "GLOBAL":
                _check_global(str(argument), file_name)
            elif name == "STACK_GLOBAL":
                if len(strings) < 2:
                    raise CheckpointError(f"{file_name} names a constructor in a way aegui does not read.")
                _check_global(f"{strings[-2]} {strings[-1]}", file_name)
            elif name in ("INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4"):
                raise CheckpointError(f"{file_name} builds Python objects (pickle opcode {name}); aegui loads only tensors and plain data.")
            if isinstance(argument, str) and name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
                strings = [*strings[-1:], argument]
    except CheckpointError:
        raise
    except Exception as error:  # pickletools raises ValueError and others on a malformed stream
        raise CheckpointError(f"{file_name}'s object table is damaged ({type(error).__name__}: {str(error)[:120]}).") from None


def _check_global(qualified: str, file_name: str) -> None:
    if qualified in ALLOWED_GLOBALS:
        return
    module, _, attribute = qualified.partition(" ")
    shown = f"{module}.{attribute}"[:120].encode("ascii", "backslashreplace").decode()
    raise CheckpointError(f"{file_name} refers to {shown}, which is not a plain tensor or container; aegui does not load it (nothing from the file was run).")

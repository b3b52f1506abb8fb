"""The Qt binding must not corrupt reference counts when signals are emitted from Python.

PySide6 6.12.0 drops a reference to ``True`` on every ``Signal.emit()``; after a few thousand
pen events the interpreter aborts. pyproject.toml excludes that release; this test fails on
any binding with the same fault.
"""

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    changed = Signal(object)


def test_emitting_a_signal_keeps_reference_counts(qapp):
    emitter = _Emitter()
    received = []
    emitter.changed.connect(received.append)
    before_true, before_none = sys.getrefcount(True), sys.getrefcount(None)
    for index in range(2000):
        emitter.changed.emit(index)
    assert len(received) == 2000
    assert abs(sys.getrefcount(True) - before_true) < 50
    assert abs(sys.getrefcount(None) - before_none) < 50

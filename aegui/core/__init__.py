"""Qt-free core: preprocessing, checkpoint reading, the model session, projections.

Nothing here imports Qt, pyqtgraph or Lightning (an import-linter contract checks it), so all
of it runs and is tested without a display.
"""

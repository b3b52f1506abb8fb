"""aegui's Lightning training package: a client of the kernel in ``aegui.core``.

The networks, the IDX reader and the checkpoint format live in ``aegui.core``; this package
adds what only training needs (data module, Lightning module, statistics, the CLI).
"""

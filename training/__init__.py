"""Training package for aegui's autoencoders.

Importing this package does not import Lightning: the GUI uses ``training.networks`` and
``training.idx`` without it. Lightning lives in ``training.module``, ``training.data`` and
``training.cli``.
"""

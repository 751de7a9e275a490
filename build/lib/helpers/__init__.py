"""Helpers for the course "Convolutional neural networks on Fashion-MNIST".

Small modules named for what they do, imported by the notebooks:

- ``helpers.data``: find, verify, load and prepare Fashion-MNIST (notebook 01)
- ``helpers.params``: validate a notebook's parameters (notebook 01)
- ``helpers.models``: the course's model builders (notebook 02)
- ``helpers.training``: seeded, timed training and evaluation (notebook 03)
- ``helpers.viz``: image grids, kernels, feature maps, curves, confusion matrix
- ``helpers.experiments``: controlled experiments over model variants (notebook 05)
- ``helpers.exercises``: instant feedback on the exercises

Importing ``helpers`` does not import TensorFlow; the modules that need it do.
"""

__version__ = "1.0.0"

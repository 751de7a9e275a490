"""Helpers for the course "Convolutional neural networks on Fashion-MNIST".

What a notebook teaches, it writes out in full; what later notebooks reuse lives here,
in small modules by concern, each function naming the notebook that introduces it:

- ``helpers.environment``: which Python, TensorFlow and Keras run a notebook, and whether
  the course is tested with them (every notebook's set-up cell)
- ``helpers.checks``: the argument checks every module shares
- ``helpers.claims``: the values a notebook's text rests on, recorded by name for the
  course's checks of that text
- ``helpers.data``: find, verify, load and prepare Fashion-MNIST; the course's splits
- ``helpers.params``: validate a notebook's parameters
- ``helpers.precision``: the precision, batch size and learning rate chosen for the machine
- ``helpers.augmentation``: random changes to the training images, as Keras layers
- ``helpers.models``: the course's model builders and tools to look inside a model
- ``helpers.training``: seeded, timed training and evaluation
- ``helpers.calibration``: how far to trust the probabilities (ECE, temperature scaling)
- ``helpers.saving``: save trained models with a record of how they were trained
- ``helpers.comparisons``: the course's one rule for calling a difference between two
  variants clear, seed by seed
- ``helpers.viz``: every plot of the course
- ``helpers.explorer``: a trained model's explorer, one interactive page that works offline
  (predictions, feature maps, Grad-CAM, confusion matrix)
- ``helpers.experiments``: controlled experiments over model variants, and the
  measurements shipped with the course
- ``helpers.sweeps``: each controlled experiment repeated over seeds; the shipped seed
  runs (``results/``) and the spread they measure
- ``helpers.budget``: notebook 10's capstone trained for a time budget; the shipped runs
  that chose its recipe and measured it against its goal
- ``helpers.exercises``: instant feedback on the exercises

This list is the one list of the helper modules: the README and CONTRIBUTING.md refer
to it, and a test checks that it names every module of the package. Each module imports
only those above it in this list (a test checks that too). Importing ``helpers`` does not
import TensorFlow; the modules that need it do.
"""

__version__ = "1.0.0"

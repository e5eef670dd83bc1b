"""The exercise registry, one module per notebook (e.g. `nb01_gradient_checking`).

Each module registers its exercises with `cs231n_lib.grading.register`; the grading module
imports them all the first time an exercise is looked up.
"""

"""The ``torch`` backend: the trainers' software twin, a differentiable conductance-based LIF
simulation in torch (:mod:`.dynamics`), run on the register-level configuration like every
backend (:mod:`.backend`). CUDA when torch sees a GPU, CPU otherwise."""

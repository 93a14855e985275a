"""The cost model: pure, vectorised functions, one module per area.

Each function takes floats or numpy arrays (one value per Monte Carlo draw) and returns the
same; nothing here reads files, prints or keeps state.
"""

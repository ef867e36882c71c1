"""campaignflow: Airflow-orchestrated predictive marketing for e-commerce."""

import os

__version__ = "0.1.0"

# OpenMP threads (torch, LightGBM) sleep instead of spinning while they wait for work. Tasks share a
# node's cores: beside three busy processes on 2 cores the recommender's training took 21.7 s with
# spinning threads and 6.0 s with sleeping ones (2.1 s vs 2.5 s alone). Set before either library
# loads its OpenMP runtime; an explicit OMP_WAIT_POLICY in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

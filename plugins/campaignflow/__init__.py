"""campaignflow: Airflow-orchestrated predictive marketing for e-commerce."""

__version__ = "0.1.0"

"""The run report in the Airflow UI: a FastAPI app the plugin in ``plugins/campaignflow_ui.py`` mounts."""

"""Airflow local settings: campaignflow's cluster policy (:mod:`campaignflow.orchestration.policy`).

Airflow imports ``airflow_local_settings`` from ``$AIRFLOW_HOME/config`` or, failing that, from the
plugins folder (both are on its ``sys.path``); ``.airflowignore`` keeps the plugin manager from
loading this file as a plugin. The hook is registered here rather than through an ``airflow.policy``
entry point because Airflow 3.3 calls ``task_instance_mutation_hook`` only when a local-settings
module defines one. A deployment with its own ``config/airflow_local_settings.py`` adds this import.
"""

from campaignflow.orchestration.policy import task_instance_mutation_hook

__all__ = ["task_instance_mutation_hook"]

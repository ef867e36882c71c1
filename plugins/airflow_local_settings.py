"""Airflow local settings: campaignflow's cluster policy (:mod:`campaignflow.orchestration.policy`),
and the task libraries preloaded in the processes that fork tasks (:mod:`campaignflow.orchestration.preload`).

Airflow imports ``airflow_local_settings`` from ``$AIRFLOW_HOME/config`` or, failing that, from the
plugins folder (both are on its ``sys.path``); ``.airflowignore`` keeps the plugin manager from
loading this file as a plugin. The hook is registered here rather than through an ``airflow.policy``
entry point because Airflow 3.3 calls ``task_instance_mutation_hook`` only when a local-settings
module defines one. A deployment with its own ``config/airflow_local_settings.py`` adds these lines.
"""

from campaignflow.orchestration.policy import task_instance_mutation_hook
from campaignflow.orchestration.preload import preload_if_forking

preload_if_forking()

__all__ = ["task_instance_mutation_hook"]

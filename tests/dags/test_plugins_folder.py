"""Airflow's plugin manager loads only plugin files from plugins/, never the library's modules."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PLUGINS = ROOT / "plugins"
PLUGIN_FILES = {"campaignflow_ui.py"}  # Airflow plugin files that live directly in plugins/


def _candidates(folder: Path) -> set[str]:
    """The .py files the plugin manager would import from ``folder`` (its own discovery)."""
    from airflow._shared.module_loading import find_path_from_directory

    found = find_path_from_directory(str(folder), ".airflowignore", "glob")
    return {str(Path(p).relative_to(folder)) for p in found if p.endswith(".py")}


def test_discovery_skips_the_library() -> None:
    assert _candidates(PLUGINS) == PLUGIN_FILES


def test_discovery_would_load_the_library_without_the_ignore_file(tmp_path: Path) -> None:
    """The check above can fail: without .airflowignore the library's modules are plugin candidates."""
    copy = tmp_path / "plugins"
    shutil.copytree(PLUGINS, copy, ignore=shutil.ignore_patterns("__pycache__", ".airflowignore"))
    assert {"campaignflow/settings.py", "campaignflow/cli.py", "campaignflow/io/lake.py"} <= _candidates(copy)


def test_loading_plugins_imports_no_bare_library_module() -> None:
    """Run the real plugin manager and list every module it imported from the plugins folder."""
    code = """
import json, os, sys
before = set(sys.modules)
from airflow import plugins_manager
plugins_manager.ensure_plugins_loaded()
folder = os.path.realpath(os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"])
def inside(name):
    path = getattr(sys.modules[name], "__file__", None) or "/"
    return os.path.realpath(path).startswith(folder + os.sep)
bare = sorted(n for n in set(sys.modules) - before if "." not in n and n != "campaignflow" and inside(n))
print("RESULT:" + json.dumps({"bare": bare, "errors": plugins_manager.get_import_errors()}))
"""
    env = {**os.environ, "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    result = json.loads(next(line[7:] for line in out.stdout.splitlines() if line.startswith("RESULT:")))
    expected = {Path(f).stem for f in PLUGIN_FILES} | {"airflow_local_settings"}  # the cluster policy, by sys.path
    assert result == {"bare": sorted(expected), "errors": {}}

"""Kilo Code (VS Code extension ``kilocode.kilo-code``) task histories; see ``vscode_tasks``."""

from spendtray.importers.vscode_tasks import task_source

SOURCE = task_source("kilo-code", "Kilo Code", "kilocode.kilo-code")

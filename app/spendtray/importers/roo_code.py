"""Roo Code (VS Code extension ``rooveterinaryinc.roo-cline``) task histories; see
``vscode_tasks``."""

from spendtray.importers.vscode_tasks import task_source

SOURCE = task_source("roo-code", "Roo Code", "rooveterinaryinc.roo-cline")

"""Cline (VS Code extension ``saoudrizwan.claude-dev``) task histories; see ``vscode_tasks``."""

from spendtray.importers.vscode_tasks import task_source

SOURCE = task_source("cline", "Cline", "saoudrizwan.claude-dev")

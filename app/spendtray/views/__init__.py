"""What the tray, the dashboard and the estimator show, as plain data and text: view models.

Qt-free (a test proves it) so they are checked like the core: typed, unit-tested without a
display. ``spendtray.gui`` only puts what these modules compute into widgets.
"""

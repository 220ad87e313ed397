"""The Qt face of Spendtray: tray icon, live dashboard, settings, estimator window.

Only this package imports Qt. Widgets live on the GUI (main) thread; worker threads reach them
only through signals on ``bridge.Bridge``. ``main.run_gui`` is the entry point.
"""

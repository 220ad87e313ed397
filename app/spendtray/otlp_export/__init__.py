"""Every event stored here, sent to an OpenTelemetry Collector as an OTLP log record (SPEC §14),
with the official OpenTelemetry SDK exporter: ``records`` builds the records (pure),
``service`` sends them from its own thread, resuming where it stopped.
"""

"""Receivers: usage that other tools already emit, turned into canonical events (SPEC §4, §5).

- ``POST /v1/traces``: OTLP/HTTP traces (protobuf or JSON, optionally gzip) carrying
  OpenTelemetry GenAI spans (``otlp_wire`` decodes, ``otlp_spans`` maps spans to events).
- ``POST /v1/logs`` and ``POST /v1/metrics``: coding agents' native OTLP telemetry
  (``otlp_signals`` decodes; ``agent_logs`` maps per-request log events, ``agent_metrics`` maps
  token and cost counters).
- ``POST /v1/integrations/litellm``: LiteLLM's ``generic_api`` logger (``litellm_payload``).

Only usage and attribution are kept: prompt and completion text (span content attributes and
events, LiteLLM ``messages``/``response``) is never read into an event nor stored (SPEC §10).
``routes.receiver_handlers`` is called once by the route table (``server/routes.py``) on the
caller's thread; the handlers themselves run on the server's event loop.
"""

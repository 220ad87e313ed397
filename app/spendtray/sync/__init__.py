"""Spend from every machine through a folder a file-sync tool keeps in step (SPEC §14).

``layout`` (where files live, the machine id), ``records`` (one event as a self-checking line),
``exporter`` (this machine's events out), ``follower`` (the others' in), ``service`` (the
worker thread). No network, no server: the sync tool moves the files.
"""

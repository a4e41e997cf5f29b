"""The modelplane server: ``app.create_app`` (REST API, token auth, dashboard) and ``runner``
(foreground, background and process-manager ways to run it). Needs the ``[server]`` extra."""

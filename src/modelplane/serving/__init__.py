"""An inference service that serves the model version holding a stage, and follows the stage.

``modelplane serve NAME --stage production`` (``cli/serve.py``) runs ``app.create_app`` under
uvicorn, or ``ray_serve`` on a Ray cluster. ``payload`` reads MLflow's scoring protocol,
``loading`` loads and checks a version, ``service`` holds what is served and swaps versions,
``traffic`` counts what was answered.
"""

"""TaskPilot's domain: where and when jobs run, and why. No FastAPI here; only settings.py reads the environment.

Layers, each importing only those below it (tests/test_architecture.py checks the imports):
core <- data <- timeshift <- placement <- service, with sim and studies beside service, and cli on top.
May import: rl and xai (through the layers that need them); never web.
"""

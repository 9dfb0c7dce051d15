"""Explanation text: templates, the When sentence, the Groq adapter and the explainer (cache -> LLM -> template).

May import: scheduler.core at most; the facts it renders are built by scheduler.service.
"""

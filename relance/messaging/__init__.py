"""Message texts: the Jinja2 sandbox, the default template library (FR/EN), Babel formatting.

Pure Python (no Django): the services gather the facts, this package turns them into text.
"""

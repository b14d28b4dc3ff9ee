"""The web dashboard: server-rendered pages (Jinja2) with small first-party JS and CSS.

Pages render from the same store functions the REST API uses; their scripts call the REST API
for actions and follow the server's event stream for live updates. Every page has a JSON twin
(``?format=json``) holding the data it renders.
"""
from server_addon.web.app import install

__all__ = ["install"]

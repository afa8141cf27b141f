"""Code shared by app.py and the pages (a subfolder, so never a page itself).

Importing this package is where app.py's router takes charge of a process that Streamlit started
as a legacy `pages/` app (pages/_ui/router.py): app.py and every page import from here first.
Outside Streamlit (the CLI, docs, plain tests) nothing happens and Streamlit is not imported.
"""

import sys

if "streamlit" in sys.modules:
    from pages._ui.router import take_charge

    take_charge()

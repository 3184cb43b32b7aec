"""Every test server runs without the OS keyring (AGY_KEYRING=0): a key a developer
stored with `agy-lsp login` must not turn the scripted fallback into Gemini. The
login tests turn it back on with a keyring of their own (tests/keyring_file.py)."""

import os

os.environ["AGY_KEYRING"] = "0"

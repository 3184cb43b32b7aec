"""A scripted model for the extension's tests: agy-lsp's own scripted model server
(agy_lsp.backends.scripted), whose script can be replaced while it runs and which
reports every request it gets.

stdout, one JSON object a line: first {"url": <OpenAI-compatible base URL>, "gemini":
<base URL for GOOGLE_GEMINI_BASE_URL>}, then {"request": <body>} for each model
request, and {"swapped": n} once the n-th script from stdin is in place. stdin: one
script a line ({"replies": [...], "fallback": ...}); each starts a fresh sequence.
"""

import json
import sys
import threading
import time

from agy_lsp.backends.scripted import ScriptedModel, parse_script

lock = threading.Lock()


def say(obj: object) -> None:
    with lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def main() -> None:
    model = ScriptedModel()
    first = open(sys.argv[1]).read() if len(sys.argv) > 1 else "[]"
    url, state = model.register(parse_script(first), name="default")
    current = [state]
    say({"url": url, "gemini": model.gemini_base_url})

    def report() -> None:
        seen: dict[int, int] = {}
        while True:
            s = current[0]
            n = seen.get(id(s), 0)
            for body in s.requests[n:]:
                say({"request": body})
                n += 1
            seen[id(s)] = n
            time.sleep(0.05)

    threading.Thread(target=report, daemon=True).start()
    swaps = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        _, state = model.register(parse_script(line), name="default")
        current[0] = state
        swaps += 1
        say({"swapped": swaps})
    model.close()


if __name__ == "__main__":
    main()

"""``python -m bursa.api.openapi_dump PATH``: write Bursa's OpenAPI document to ``PATH``.

The web app generates its API types from it (``web/``: ``npm run gen:api``), so a changed
endpoint breaks the web app's type check rather than a member's page. No database, engine
or settings are needed: only the routes are read.
"""

import json
import sys
from pathlib import Path

from bursa.api.app import create_app


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bursa.api.openapi_dump PATH", file=sys.stderr)
        return 2
    document = create_app(None, None, None).openapi()  # type: ignore[arg-type]  # routes only
    Path(argv[0]).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

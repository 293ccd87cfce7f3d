"""What the console's sources (ui/src) may never do, read from the sources themselves (this replaces
the old /dashboard page's check of its script): build markup from data, run strings as code, or keep
the key anywhere but this tab's sessionStorage."""
from __future__ import annotations

import re
from pathlib import Path

UI_SRC = Path(__file__).resolve().parents[2] / "ui" / "src"
# The browser stores the console may use, and for what: the key only in sessionStorage (session.ts);
# localStorage holds display preferences, never a secret.
STORAGE_OWNERS = {"sessionStorage": {"api/session.ts"}, "localStorage": {"lib/theme.ts", "lib/preferences.ts"}}
NEVER = ("dangerouslySetInnerHTML", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
         "new Function", "document.cookie")


def sources() -> dict[str, str]:
    """Each shipped source file (tests and test setup excluded), by its path under ui/src, comments removed."""
    out = {}
    for path in sorted(UI_SRC.rglob("*.ts*")):
        name = path.relative_to(UI_SRC).as_posix()
        if ".test." in name or name.startswith("test/"):
            continue
        code = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
        out[name] = re.sub(r"(^|[^:])//.*", r"\1", code)
    return out


def test_there_are_sources_to_check():
    assert len(sources()) > 20 and "api/session.ts" in sources()


def test_no_source_builds_markup_from_data_or_runs_strings_as_code():
    found = [(name, word) for name, code in sources().items() for word in NEVER if word in code]
    assert not found, found


def test_the_key_is_kept_only_in_this_tabs_session_storage():
    for store, owners in STORAGE_OWNERS.items():
        users = {name for name, code in sources().items() if re.search(rf"\b{store}\b", code)}
        assert users <= owners, f"{store} used by {sorted(users - owners)}"
    session = sources()["api/session.ts"]
    assert "sessionStorage.setItem(TOKEN_STORAGE, token)" in session
    for name in STORAGE_OWNERS["localStorage"]:
        assert "token" not in sources()[name].lower(), name

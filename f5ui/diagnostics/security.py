"""Who may use this server: access control on or off, the users file readable, and what visitors
who are not signed in may do. Never a key or a hash: only whether one is set, and counts."""

from __future__ import annotations

from ..accounts import Accounts
from ..schema import ERROR, OFF, OK, WARN, Check
from .context import Context

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def access(ctx: Context) -> list[Check]:
    settings = ctx.settings
    accounts = Accounts(settings)
    if not accounts.enabled:
        exposed = settings.host not in LOCAL_HOSTS
        return [Check("access", "security", WARN if exposed else OFF,
                      f"Access control is off: anyone who reaches {settings.host}:{settings.port} may generate and "
                      "change the voice library.",
                      "Set F5UI_API_KEY (and F5UI_USERS for sign-in names and roles) before exposing the server.")]
    checks = [Check("access", "security", OK, f"Access control {accounts.describe()}")]
    if accounts.users is not None:
        accounts.users.users()
        if accounts.users.problems:
            checks.append(Check("users file", "security", ERROR,
                                f"{accounts.users.path.name}: {'; '.join(accounts.users.problems)}; those lines "
                                "sign nobody in (access stays on).",
                                "Fix the lines: python -m f5ui.cli user add NAME --role user|admin writes one."))
        else:
            checks.append(Check("users file", "security", OK, f"{accounts.users.path.name}: "
                                f"{len(accounts.users.users())} users"))
    return checks
